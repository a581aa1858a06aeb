// Whether a workspace accepts connections yet: the runtime reports RUNNING once the process or
// container is up, which can be before the program in it listens.
import { canConnect } from '../lib/tcp-connect.js';

/** Opens and closes one TCP connection to `host:port` (an `instance.ip`); false on refusal or timeout. */
export function acceptsConnections(address: string, timeoutMs: number): Promise<boolean> {
  const { hostname, port } = new URL(`http://${address}`);
  return canConnect(hostname.replace(/^\[|\]$/g, ''), Number(port || 80), timeoutMs);
}
