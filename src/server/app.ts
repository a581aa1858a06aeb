// Builds the HTTP server: one plugin per concern, schemas next to the routes, and one error shape.
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyServerFactory } from 'fastify';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import cookie, { type CookieSerializeOptions } from '@fastify/cookie';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv } from 'ajv';
import type { Logger } from 'pino';
import { frameworkError, installErrorHandling } from './errors.js';
import { DEFAULT_AUTH_FAILURE_LIMIT, limitAuthFailures, type AuthFailureLimit } from './auth-limits.js';
import { checkCookieRequestOrigin } from './csrf.js';
import { decodeCookieValue } from './auth.js';
import { installAuth } from './auth-hook.js';
import { requireRouteContracts } from './route-policy.js';
import { ERRORS } from './responses.js';
import type { ServerContext, WsmApp } from './context.js';
import { workspaceRoutes } from './routes/workspaces.js';
import { statusRoutes } from './routes/status.js';
import { tokenRoutes } from './routes/tokens.js';
import { adminRoutes } from './routes/admin.js';
import { dormancyRoutes } from './routes/dormancy.js';
import { activityRoutes } from './routes/activity.js';
import { sessionRoutes } from './routes/session.js';
import { proxySessionRoutes } from './routes/proxy-session.js';
import { eventRoutes, type EventSettings } from './routes/events.js';
import { consoleRoutes } from './routes/console.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoute } from './routes/metrics.js';
import { installHttpMetrics, ReadinessChecker, type WsmMetrics } from '../metrics/index.js';

export interface AppOptions {
  logger: Logger | false;
  /** Largest accepted request body, in bytes. */
  bodyLimit?: number;
  /** Proxies whose X-Forwarded-* headers are believed (Fastify's trustProxy); none by default. */
  trustedProxies?: string[];
  authFailures?: AuthFailureLimit;
  /** /api/events settings not left at their defaults. */
  events?: Partial<EventSettings>;
  /** Metrics (timed requests; GET /metrics when a token is given) and what /readyz checks. */
  observability?: { metrics?: WsmMetrics; metricsToken?: string; readiness?: ReadinessChecker };
  /** The listener to serve on, when requests are shared with another handler (the proxy on the API's origin). */
  serverFactory?: FastifyServerFactory<Server>;
}

// Bodies are checked strictly (no coercion, unknown fields rejected, every error reported);
// query strings are coerced, since everything in a URL is text.
const bodyAjv = new Ajv({ allErrors: true, coerceTypes: false, removeAdditional: false, useDefaults: false, strict: false });
const queryAjv = new Ajv({ allErrors: true, coerceTypes: 'array', removeAdditional: false, useDefaults: true, strict: false });

// @fastify/cookie parses with its parseOptions too, though its types list only the serializing ones.
const cookieParsing: CookieSerializeOptions & { decode: typeof decodeCookieValue } = { decode: decodeCookieValue };

export async function buildApp(ctx: ServerContext, options: AppOptions): Promise<WsmApp> {
  const app = Fastify<Server, IncomingMessage, ServerResponse, FastifyBaseLogger>({
    loggerInstance: options.logger === false ? undefined : options.logger,
    logger: options.logger === false ? false : undefined,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    return503OnClosing: true,
    frameworkErrors: frameworkError,
    // Without trusted proxies, X-Forwarded-* from whoever connects is ignored: it could be forged.
    trustProxy: options.trustedProxies && options.trustedProxies.length > 0 ? options.trustedProxies : false,
    ...(options.serverFactory ? { serverFactory: options.serverFactory } : {}),
  }).withTypeProvider<TypeBoxTypeProvider>();

  requireRouteContracts(app);
  // First of the onRequest hooks, so that a request's time includes authentication and its limits.
  if (options.observability?.metrics) installHttpMetrics(app, options.observability.metrics.families);
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : queryAjv).compile(schema));
  const readiness = options.observability?.readiness;
  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
    // While draining, each answer closes its connection: the client's next request opens a new one
    // (which the balancer sends elsewhere), and no idle keep-alive connection holds up the close.
    if (readiness?.draining) reply.header('connection', 'close');
  });
  installErrorHandling(app);
  // onRequest hooks run in this order: cookies are read, failed authentications limited, cookie-signed
  // writes checked for their origin, and only then is the caller authenticated.
  await app.register(cookie, { parseOptions: cookieParsing });
  await limitAuthFailures(app, options.authFailures ?? DEFAULT_AUTH_FAILURE_LIMIT);
  app.addHook('onRequest', async (req) => checkCookieRequestOrigin(req));
  installAuth(app, ctx.auth);

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'wsm workspace API',
        description: 'Compatible with the Mage Pro workspace API. Authenticate with the OAUTH-TOKEN header, Authorization: Bearer, or the oauth_token cookie.',
        version: ctx.version,
      },
      components: {
        securitySchemes: {
          oauthToken: { type: 'apiKey', in: 'header', name: 'OAUTH-TOKEN' },
          bearer: { type: 'http', scheme: 'bearer' },
        },
      },
      security: [{ oauthToken: [] }, { bearer: [] }],
    },
  });

  await app.register(async (scope) => {
    await statusRoutes(scope, ctx);
    await workspaceRoutes(scope, ctx);
    await tokenRoutes(scope, ctx);
    await adminRoutes(scope, ctx);
    await dormancyRoutes(scope, ctx);
    await activityRoutes(scope, ctx);
    await sessionRoutes(scope, ctx);
    await proxySessionRoutes(scope, ctx);
    await eventRoutes(scope, ctx, options.events);
    await consoleRoutes(scope, ctx);
    await healthRoutes(scope, options.observability?.readiness ?? new ReadinessChecker(ctx.store, new Map()));
    const { metrics, metricsToken } = options.observability ?? {};
    if (metrics && metricsToken) await metricsRoute(scope, metrics, metricsToken);
  });

  app.get('/api/openapi.json', { config: { auth: 'public' }, schema: { hide: true, response: { 200: { type: 'object', additionalProperties: true }, ...ERRORS } } }, async () => ({ ...app.swagger() }));
  app.get('/api/docs', { config: { auth: 'public' }, schema: { hide: true, response: { 302: { type: 'null' }, ...ERRORS } } }, async (_req, reply) => reply.redirect('/api/openapi.json'));
  return app;
}
