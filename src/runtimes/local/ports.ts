// TCP port checks on the host address the workspaces listen on.
import { createServer } from 'node:net';

/** Whether a listener could bind host:port right now (it may be taken a moment later: callers accept that race). */
export function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port the kernel considers free on `host`, avoiding the ones in `avoid` (ports other workspaces keep). */
export async function pickFreePort(host: string, avoid: ReadonlySet<number>): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen({ host, port: 0, exclusive: true }, () => {
        const address = server.address();
        const found = typeof address === 'object' && address ? address.port : 0;
        server.close(() => resolve(found));
      });
    });
    if (port > 0 && !avoid.has(port)) return port;
  }
  throw new Error(`no free TCP port found on ${host}`);
}
