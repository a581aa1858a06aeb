// The load generator, run as its own process so it never shares the server's event loop or this
// harness's. Argument: a JSON LoadSpec. Prints one JSON LoadResult line on stdout.
import autocannon from 'autocannon';
import { benchName } from './seed.js';

export type LoadKind = 'detail' | 'list' | 'stop-resume' | 'patch-env' | 'plain';

export interface LoadSpec {
  url: string;
  token: string;
  kind: LoadKind;
  connections: number;
  durationSeconds: number;
  /** Workspaces in the store (detail and list spread over all of them). */
  workspaces: number;
}

export interface LoadResult {
  requestsPerSecond: number;
  total: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  non2xx: number;
  timeouts: number;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
let counter = 0;

/** Each request of a kind, numbered in the order they are sent. */
function request(i: number): { method: 'GET' | 'PUT'; path: string; body?: string } {
  switch (spec.kind) {
    case 'plain':
      // The URL's own path and query, again and again (a workspace's page, directly or through the proxy).
      return { method: 'GET', path: new URL(spec.url).pathname + new URL(spec.url).search };
    case 'detail':
      return { method: 'GET', path: `/api/workspaces/${benchName((i * 7919) % spec.workspaces)}` };
    case 'list':
      return { method: 'GET', path: `/api/workspaces?limit=100&offset=${(i * 100) % spec.workspaces}` };
    case 'stop-resume': {
      // 1,000 workspaces, all stopped in one round and resumed in the next.
      const action = Math.floor(i / 1000) % 2 === 0 ? 'stop' : 'resume';
      return { method: 'PUT', path: `/api/workspaces/${benchName(i % 1000)}`, body: JSON.stringify({ workspace: { action } }) };
    }
    case 'patch-env': {
      const container_config = `env:\n  - name: BENCH_ROUND\n    value: "${i}"\n`;
      return { method: 'PUT', path: `/api/workspaces/${benchName(1000 + (i % 1000))}`, body: JSON.stringify({ workspace: { action: 'patch', container_config } }) };
    }
  }
}

const instance = autocannon({
  url: spec.url,
  connections: spec.connections,
  duration: spec.durationSeconds,
  headers: { 'OAUTH-TOKEN': spec.token, 'content-type': 'application/json' },
  requests: [
    {
      setupRequest: (req: any) => ({ ...req, ...request(counter++) }),
    },
  ],
});
const result = await instance;
const out: LoadResult = {
  requestsPerSecond: result.requests.average,
  total: result.requests.total,
  p50: result.latency.p50,
  p99: result.latency.p99,
  max: result.latency.max,
  errors: result.errors,
  non2xx: result.non2xx,
  timeouts: result.timeouts,
};
process.stdout.write(`${JSON.stringify(out)}\n`);
