// The workspace proxy: its own listener (its own origin), paths /<name>/… or host names <name>.<domain>
// (addressing.ts), forwarding HTTP and WebSocket to the workspace with @fastify/http-proxy. The path is
// passed on whole, /<name> prefix included, as the Kubernetes Ingress wsm makes does (path /<name>, no
// rewrite): a workspace serves under /<name>/ whichever way it is reached. docs/proxy.md.
import Fastify, { type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from 'fastify';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import cookie from '@fastify/cookie';
import httpProxy from '@fastify/http-proxy';
import type { Logger } from 'pino';
import { WsmError } from '../core/errors.js';
import type { Store } from '../store/store.js';
import { credentialFromRequest, requireRole, type Authenticator, type Principal } from '../server/auth.js';
import { errorBody } from '../server/errors.js';
import { limitAuthFailures, type AuthFailureLimit } from '../server/auth-limits.js';
import type { ProxyAddressing } from './addressing.js';
import { forwardedHeaders } from './headers.js';
import { problemPage, startingPage } from './pages.js';
import { PROXY_SESSION_COOKIE, SESSION_TTL_MS, type ProxyTickets } from './sessions.js';
import { NotYet, WakeGate, type Resume, type WakeSettings } from './wake.js';
import { DEFAULT_HEADERS_TIMEOUT_MS, type Upstream, type UpstreamOf } from './upstream.js';
import type { KubeTls } from './kube-upstream.js';

/** Where the proxy records that a workspace was used. */
export interface ProxyActivity {
  record(name: string, source: 'proxy'): Promise<void>;
}

export interface ProxyOptions {
  /** Where the proxy listens; undefined: it does not listen, and the API's listener hands it requests (serveRequest). */
  listen?: { host: string; port: number };
  /** How workspaces are named in URLs. */
  addressing: ProxyAddressing;
  /** The API's base URL as browsers see it (known once the API listens): where they are sent to sign in. */
  apiUrl: () => string;
  store: Store;
  auth: Authenticator;
  tickets: ProxyTickets;
  activity: ProxyActivity;
  resume: Resume;
  wake: WakeSettings;
  /** Where each running workspace is reached; default its instance.ip. */
  upstreamOf?: UpstreamOf;
  /** TLS for https upstreams (the Kubernetes API server's service proxy). */
  tls?: KubeTls;
  logger: Logger;
  /** Failed authentications allowed per client, as on the API (counted apart from the API's). */
  authFailures: AuthFailureLimit;
  /** Proxies whose X-Forwarded-For is believed, for the client address the limit counts by. */
  trustedProxies?: string[];
  /** How long a workspace may take to send a response's headers (default DEFAULT_HEADERS_TIMEOUT_MS); 0: no limit. Its body is never timed. */
  headersTimeoutMs?: number;
}

export interface ProxyServer {
  addressing: ProxyAddressing;
  gate: WakeGate;
  /** The port it listens on (undefined when it shares the API's listener). */
  port?: number;
  /** Handles a request or a WebSocket upgrade that another listener (the API's) received. */
  serveRequest(req: IncomingMessage, res: ServerResponse): void;
  serveUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  close(): Promise<void>;
}

/** A workspace that does not accept the connection within this is unreachable (undici's default, said here). */
const CONNECT_TIMEOUT_MS = 10_000;
/** Proxied traffic is activity, noted at most this often per workspace (the recorder debounces store writes further). */
const ACTIVITY_EVERY_MS = 1_000;
/** The path of the proxy's sign-in step; a workspace name cannot start with "_", so no workspace owns it. */
export const SESSION_PATH = '/_wsm/session';

declare module 'fastify' {
  interface FastifyRequest {
    /** The running workspace's upstream, set by the proxy's admission check. */
    wsmUpstream: Upstream | null;
  }
}

/** A person's browser opening a page (it can follow a redirect and read a page), not a script or a WebSocket. */
function isBrowserPage(req: FastifyRequest): boolean {
  return req.method === 'GET' && !req.headers.upgrade && (req.headers.accept ?? '').includes('text/html');
}

function sendProblem(req: FastifyRequest, reply: FastifyReply, error: WsmError, name = ''): FastifyReply {
  if (error.status >= 500) reply.header('retry-after', String(error instanceof NotYet ? error.retryAfterSeconds : 1));
  if (isBrowserPage(req)) {
    const page = error instanceof NotYet && error.starting ? startingPage(name, error.message, error.retryAfterSeconds) : problemPage(`Workspace ${name}`, error.message);
    return reply.status(error.status).type('text/html; charset=utf-8').send(page);
  }
  return reply.status(error.status).send(errorBody(error));
}

export async function startProxyServer(o: ProxyOptions): Promise<ProxyServer> {
  const app = Fastify<Server, IncomingMessage, ServerResponse, FastifyBaseLogger>({
    loggerInstance: o.logger,
    return503OnClosing: true,
    trustProxy: o.trustedProxies && o.trustedProxies.length > 0 ? o.trustedProxies : false,
  });
  const gate = new WakeGate(o.store, o.resume, o.logger, o.wake, o.upstreamOf);
  const addressing = o.addressing;
  const workspaceOf = (req: FastifyRequest) => addressing.workspaceOf(req.hostname, req.url);
  const lastNoted = new Map<string, number>();

  const noteActivity = (name: string) => {
    const now = Date.now();
    if (now - (lastNoted.get(name) ?? 0) < ACTIVITY_EVERY_MS) return;
    lastNoted.set(name, now);
    o.activity.record(name, 'proxy').catch((err: unknown) => o.logger.warn({ workspace: name, err }, 'could not note proxy activity'));
  };

  const signInRedirect = (reply: FastifyReply, name: string, path: string) =>
    reply.redirect(`${o.apiUrl()}/api/proxy/session?workspace=${encodeURIComponent(name)}&path=${encodeURIComponent(path)}`, 302);

  /** Who is calling: the token headers of API clients, else the proxy's own session cookie. */
  const callerOf = async (req: FastifyRequest): Promise<Principal | undefined> => {
    const header = credentialFromRequest({ headers: req.headers });
    const session = req.cookies[PROXY_SESSION_COOKIE];
    const secret = header?.secret ?? (session ? o.tickets.secretOf(session) : undefined);
    return secret === undefined ? undefined : o.auth.verify(secret);
  };

  const admit = async (req: FastifyRequest, reply: FastifyReply) => {
    const name = workspaceOf(req);
    if (!name) return sendProblem(req, reply, new WsmError('not_found', addressing.noWorkspaceMessage));
    try {
      let principal: Principal | undefined;
      try {
        principal = await callerOf(req);
      } catch (err) {
        // A stale session or a revoked token: a browser signs in again, a script is told why.
        if (isBrowserPage(req) && err instanceof WsmError && err.status === 401) return signInRedirect(reply, name, req.url);
        throw err;
      }
      if (!principal) {
        if (isBrowserPage(req)) return signInRedirect(reply, name, req.url);
        throw new WsmError('invalid_oauth_token', 'No token was given: send it in the OAUTH-TOKEN header or as Authorization: Bearer (browsers are signed in through the console).');
      }
      requireRole(principal, 'viewer', name);
      const destination = await gate.destination(name, principal, !isBrowserPage(req));
      if (destination.waitedMs !== undefined) reply.header('x-wsm-cold-start', `waited_ms=${destination.waitedMs}`);
      noteActivity(name);
      req.wsmUpstream = destination.upstream;
      // The plugin forwards request.url (raw.url) as the path: through the API server, under its service proxy path.
      if (destination.upstream.pathPrefix) req.raw.url = `${destination.upstream.pathPrefix}${req.raw.url}`;
    } catch (err) {
      if (err instanceof WsmError) return sendProblem(req, reply, err, name);
      throw err;
    }
  };

  /** The headers of the connection to the workspace: the browser's cookies, without wsm's. */
  const websocketHeaders = (headers: Record<string, unknown>, req: FastifyRequest) => {
    const cookieHeader = forwardedHeaders(req.headers).cookie;
    return { ...headers, ...(cookieHeader ? { cookie: cookieHeader } : {}), ...req.wsmUpstream?.headers };
  };

  app.decorateRequest('wsmUpstream', null);
  await app.register(cookie);
  // Guessing tokens through the proxy is as slow as through the API.
  await limitAuthFailures(app, o.authFailures);

  app.get(SESSION_PATH, async (req, reply) => {
    const { ticket, path } = req.query as { ticket?: unknown; path?: unknown };
    const name = addressing.mode === 'host' ? workspaceOf(req) : typeof path === 'string' ? addressing.workspaceOf('', path) : undefined;
    const session = typeof ticket === 'string' && name ? o.tickets.redeem(ticket, name) : undefined;
    if (!session || !name) {
      return reply.status(400).type('text/html; charset=utf-8').send(problemPage('Sign-in link not valid', 'This sign-in link is unknown, used or expired. Open the workspace again from the console.'));
    }
    // No Domain attribute: the cookie stays on this host (with host routing, this one workspace's), never a parent domain's.
    reply.setCookie(PROXY_SESSION_COOKIE, session, { httpOnly: true, sameSite: 'lax', path: '/', maxAge: SESSION_TTL_MS / 1000, secure: req.protocol === 'https' });
    return reply.redirect(addressing.safeReturnPath(path, name), 302);
  });

  await app.register(httpProxy, {
    upstream: '',
    websocket: true,
    preHandler: admit,
    replyOptions: {
      getUpstream: (req) => (req as FastifyRequest).wsmUpstream!.origin,
      rewriteRequestHeaders: (req, headers) => ({ ...forwardedHeaders(headers), ...(req as FastifyRequest).wsmUpstream?.headers }),
    },
    undici: {
      // A response's body is never cut for being quiet (an event stream, a long poll): it ends when
      // either side closes, as configurable-http-proxy does in front of notebooks.
      bodyTimeout: 0,
      headersTimeout: o.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS,
      connectTimeout: CONNECT_TIMEOUT_MS,
      // Only the API server is an https upstream; its CA and client certificate (the plugin's default skips verification).
      ...(o.tls ? { connect: { ...o.tls } } : {}),
    },
    // The plugin's code reads rewriteRequestHeaders here (its default passes every cookie on); its types omit it.
    wsClientOptions: { rewriteRequestHeaders: websocketHeaders, ...o.tls } as Record<string, unknown>,
  });

  let port: number | undefined;
  if (o.listen) {
    await app.listen(o.listen);
    const address = app.server.address();
    port = typeof address === 'object' && address ? address.port : o.listen.port;
  } else {
    await app.ready();
  }
  return {
    addressing,
    gate,
    port,
    serveRequest: (req, res) => app.routing(req, res),
    // @fastify/http-proxy listens for upgrades on the proxy's own server object, listening or not.
    serveUpgrade: (req, socket, head) => app.server.emit('upgrade', req, socket, head),
    close: async () => {
      gate.close();
      await app.close();
    },
  };
}
