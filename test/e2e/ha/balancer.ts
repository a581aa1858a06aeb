// A small HTTP load balancer for the rolling-restart test, behaving as a Service with readiness does:
// it probes each backend's /readyz every 100 ms and sends requests, round robin, only to those whose
// probe last passed; a backend leaves after three failed probes in a row (a readiness probe's
// failureThreshold: a slow answer on a busy machine is not a departure), and one that refuses the connection (the request never reached it) is skipped and
// the next one tried. It keeps connections to the backends open between requests, as proxies do.
import { createServer, request, Agent, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

const FAILURE_THRESHOLD = 3;

export interface Balancer {
  url: string;
  /** Each backend's readiness statuses as probed, in order, repeats dropped. */
  seen: Map<string, string[]>;
  close(): Promise<void>;
}

export async function startBalancer(backends: () => string[]): Promise<Balancer> {
  const agent = new Agent({ keepAlive: true });
  const ready = new Set<string>();
  const failedProbes = new Map<string, number>();
  const failed = (base: string) => {
    const count = (failedProbes.get(base) ?? 0) + 1;
    failedProbes.set(base, count);
    if (count >= FAILURE_THRESHOLD) ready.delete(base);
  };
  const seen = new Map<string, string[]>();
  const note = (base: string, status: string) => {
    const list = seen.get(base) ?? [];
    if (list.at(-1) !== status) list.push(status);
    seen.set(base, list);
  };
  const probe = async () => {
    await Promise.all(backends().map(async (base) => {
      try {
        const res = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2_000) });
        const body = (await res.json()) as { status: string };
        note(base, body.status);
        if (res.status !== 200) return failed(base);
        failedProbes.set(base, 0);
        ready.add(base);
      } catch {
        note(base, 'unreachable');
        failed(base);
      }
    }));
  };
  let probing = true;
  const loop = (async () => {
    while (probing) {
      await probe();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  await probe();

  let turn = 0;
  const forward = (req: IncomingMessage, body: Buffer, res: ServerResponse, tried: Set<string>) => {
    const candidates = [...ready].filter((b) => !tried.has(b));
    if (candidates.length === 0) {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('no ready backend');
      return;
    }
    const base = candidates[turn++ % candidates.length]!;
    tried.add(base);
    const target = new URL(req.url ?? '/', base);
    const upstream = request(target, { method: req.method, headers: req.headers, agent }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') {
        ready.delete(base);
        forward(req, body, res, tried);
        return;
      }
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end(`backend ${base}: ${err.message}`);
      else res.destroy();
    });
    upstream.end(body);
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => forward(req, Buffer.concat(chunks), res, new Set()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: async () => {
      probing = false;
      await loop;
      agent.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
