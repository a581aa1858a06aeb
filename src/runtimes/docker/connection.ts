// Turns a DOCKER_HOST-style address into a dockerode client, so operators configure wsm the way
// they configure the docker CLI (DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

export interface DockerConnectionOptions {
  /** unix:///var/run/docker.sock, tcp://host:2376, http(s)://host:port or ssh://user@host. */
  dockerHost?: string;
  tlsVerify?: boolean;
  /** A directory with ca.pem, cert.pem and key.pem. */
  certPath?: string;
}

/** The connection settings an operator gave through the docker CLI's environment variables. */
export function dockerOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): DockerConnectionOptions {
  const tls = env.DOCKER_TLS_VERIFY;
  return {
    dockerHost: env.DOCKER_HOST || undefined,
    tlsVerify: tls !== undefined && tls !== '' && tls !== '0' && tls.toLowerCase() !== 'false',
    certPath: env.DOCKER_CERT_PATH || undefined,
  };
}

/** The hostname of a remote engine, when the engine is not local (its published ports live there). */
export function remoteEngineHost(dockerHost: string | undefined): string | undefined {
  if (!dockerHost || dockerHost.startsWith('unix://') || dockerHost.startsWith('npipe://')) return undefined;
  try {
    return new URL(dockerHost).hostname || undefined;
  } catch {
    return undefined;
  }
}

export function createDockerClient(options: DockerConnectionOptions): Docker {
  const host = options.dockerHost?.trim();
  if (!host) return new Docker({ socketPath: DEFAULT_DOCKER_SOCKET });
  if (host.startsWith('unix://')) return new Docker({ socketPath: host.slice('unix://'.length) || DEFAULT_DOCKER_SOCKET });
  if (host.startsWith('/')) return new Docker({ socketPath: host });

  let url: URL;
  try {
    url = new URL(host);
  } catch {
    throw new Error(`DOCKER_HOST "${host}" is not an address such as unix:///var/run/docker.sock or tcp://host:2376`);
  }
  if (url.protocol === 'ssh:') {
    return new Docker({
      protocol: 'ssh',
      host: url.hostname,
      port: url.port || 22,
      username: decodeURIComponent(url.username) || undefined,
      sshOptions: { agent: process.env.SSH_AUTH_SOCK },
    } as Docker.DockerOptions);
  }
  if (!['tcp:', 'http:', 'https:'].includes(url.protocol)) {
    throw new Error(`DOCKER_HOST "${host}" uses an unsupported scheme ${url.protocol}`);
  }
  // As the docker CLI: TLS when asked for, when the URL says https, or on the TLS port 2376.
  const tls = options.tlsVerify || url.protocol === 'https:' || url.port === '2376';
  const certs = options.certPath
    ? {
        ca: readFileSync(join(options.certPath, 'ca.pem')),
        cert: readFileSync(join(options.certPath, 'cert.pem')),
        key: readFileSync(join(options.certPath, 'key.pem')),
      }
    : {};
  return new Docker({
    protocol: tls ? 'https' : 'http',
    host: url.hostname,
    port: url.port || (tls ? 2376 : 2375),
    ...certs,
  });
}
