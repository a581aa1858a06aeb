// Whether something listens: one TCP connection opened and closed at once. A program's process can be up
// before it listens, so "running" alone does not mean a request would be answered.
import { createConnection } from 'node:net';

/** Whether `host:port` accepts a TCP connection within `timeoutMs`; false on refusal, error or timeout. */
export function canConnect(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
