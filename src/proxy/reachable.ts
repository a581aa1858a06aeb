// Whether a workspace accepts connections yet: the runtime reports RUNNING once the process or
// container is up, which can be before the program in it listens.
import { connect } from 'node:net';

/** Opens and closes one TCP connection to `host:port` (an `instance.ip`); false on refusal or timeout. */
export function acceptsConnections(address: string, timeoutMs: number): Promise<boolean> {
  const { hostname, port } = new URL(`http://${address}`);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port || 80) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
