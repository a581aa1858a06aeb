// Wires `wsm serve` to the process: flags, signals, exit codes.
import type { Command } from 'commander';
import { ConfigError, resolveServeConfig, type ServeFlags } from './config.js';
import { firstRunNotice } from './first-run.js';
import { SqliteInUseError } from './sqlite-owner.js';

/** How long a signal that came during the start waits for the start to end before the process exits anyway. */
const EARLY_SIGNAL_WAIT_MS = 10_000;

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the control plane: the HTTP API, the console and the controller')
    // The program's flags are the API client's; the server has its own.
    .configureHelp({ showGlobalOptions: false })
    .option('--host <host>', 'address to listen on (WSM_HOST, default 127.0.0.1)')
    .option('--port <port>', 'port to listen on (WSM_PORT, default 6789)')
    .option('--data-dir <dir>', 'where the SQLite store and local workspaces live (WSM_DATA_DIR, default ./.wsm)')
    .option('--cluster-type <type>', 'default cluster type: local, docker or k8s (WSM_CLUSTER_TYPE; default docker when an engine answers, else local)')
    .option('--database-url <url>', 'use PostgreSQL instead of SQLite (WSM_DATABASE_URL)')
    .option('--hooks-dir <dir>', 'directory of lifecycle scripts (WSM_HOOKS_DIR, default <data-dir>/hooks)')
    .option('--local-uid-range <first-last>', 'uids local workspaces run as, one each, when wsm runs as root (WSM_LOCAL_UID_RANGE, default 70000-99999)')
    .option('--trusted-proxies <list>', 'proxies whose X-Forwarded-For/-Proto/-Host are believed: IPs, CIDR ranges, loopback (WSM_TRUSTED_PROXIES, default none)')
    .option('--log-level <level>', 'trace, debug, info, warn or error (WSM_LOG_LEVEL, default info)')
    .option('--docker-allowed-bind-roots <paths>', 'comma-separated host directories under which owners may bind paths into Docker workspaces (WSM_DOCKER_ALLOWED_BIND_ROOTS, default none)')
    .option('--installation-id <id>', 'this installation\'s id, labelled on everything it creates (WSM_INSTALLATION_ID; default: made at first start and kept in the store)')
    .option('--metrics-port <port>', 'serve /metrics, /healthz and /readyz on this port too (WSM_METRICS_PORT; default none: /metrics only on the API port, and only with WSM_METRICS_TOKEN)')
    .option('--metrics-host <host>', 'address of the metrics port (WSM_METRICS_HOST, default: --host)')
    .option('--proxy-port <port>', 'serve the workspace proxy (/<name>/…, wake on request) on this port, an origin of its own (WSM_PROXY_PORT; default none: no proxy). docs/proxy.md')
    .option('--proxy-host <host>', 'address of the proxy port (WSM_PROXY_HOST, default: --host)')
    .option('--proxy-host-domain <domain>', 'serve each workspace at <name>.<domain> instead of /<name>/: an origin per workspace (WSM_PROXY_HOST_DOMAIN; default none: paths)')
    .option('--unsafe-proxy-on-api-origin', 'UNSAFE: serve the workspace proxy on the API\'s own port and origin, where workspace pages can call the API as the signed-in user (WSM_UNSAFE_PROXY_ON_API_ORIGIN=true)')
    .option('--wake-on-request-default <bool>', 'whether a request wakes a stopped workspace whose lifecycle_config leaves wake_on_request unset (WSM_WAKE_ON_REQUEST_DEFAULT, default false)')
    .action(async (flags: ServeFlags) => {
      let config;
      try {
        config = resolveServeConfig(flags);
      } catch (err) {
        if (err instanceof ConfigError) {
          process.stderr.write(`wsm serve: ${err.message}\n`);
          process.exit(2);
        }
        throw err;
      }
      // Heard from the start: the port answers before startServer returns (the leadership and the first
      // reconcile start after it), and a signal in between would otherwise end the process at once,
      // in the middle of its start. One that comes while starting is acted on once started; a start
      // that does not end within EARLY_SIGNAL_WAIT_MS of it (a database that does not answer) is cut short.
      let started: ((signal: string) => void) | undefined;
      let early: { signal: string; cutShort: NodeJS.Timeout } | undefined;
      const onSignal = (signal: string) => {
        if (started) return started(signal);
        early ??= { signal, cutShort: setTimeout(() => process.exit(1), EARLY_SIGNAL_WAIT_MS).unref() };
      };
      process.once('SIGTERM', () => onSignal('SIGTERM'));
      process.once('SIGINT', () => onSignal('SIGINT'));
      // Loaded here: the server pulls in every runtime's client, which the other commands never need.
      const { startServer } = await import('./serve.js');
      let server;
      try {
        server = await startServer(config);
      } catch (err) {
        if (err instanceof SqliteInUseError) {
          process.stderr.write(`wsm serve: ${err.message}\n`);
          process.exit(2);
        }
        throw err;
      }
      if (server.ownerTokenFile) process.stderr.write(firstRunNotice(server.ownerTokenFile, server.url));
      // SIGTERM (an orchestrator, a rolling update) drains first; SIGINT (a person at a terminal) does not wait.
      const shutdown = (signal: string) => {
        server.app.log.info({ signal }, 'shutting down: finishing requests in flight; workspaces keep running');
        const drainMs = signal === 'SIGTERM' ? config.drainSeconds * 1000 : 0;
        const force = setTimeout(() => process.exit(1), drainMs + 30_000);
        force.unref();
        server.drain(drainMs).then(() => server.close()).then(
          () => process.exit(0),
          (err) => {
            server.app.log.error({ err }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      started = shutdown;
      if (early) {
        // Started in time: the shutdown's own bound applies from here.
        clearTimeout(early.cutShort);
        shutdown(early.signal);
      }
    });
}
