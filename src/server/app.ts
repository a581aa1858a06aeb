// Builds the HTTP server: one plugin per concern, schemas next to the routes, and one error shape.
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import { Ajv } from 'ajv';
import type { Logger } from 'pino';
import { frameworkError, installErrorHandling } from './errors.js';
import { DEFAULT_AUTH_FAILURE_LIMIT, limitAuthFailures, type AuthFailureLimit } from './auth-limits.js';
import { checkCookieRequestOrigin } from './csrf.js';
import { TurnBudget } from './turn-budget.js';
import type { ServerContext } from './context.js';
import { workspaceRoutes } from './routes/workspaces.js';
import { statusRoutes } from './routes/status.js';
import { tokenRoutes } from './routes/tokens.js';
import { adminRoutes } from './routes/admin.js';
import { activityRoutes } from './routes/activity.js';
import { sessionRoutes } from './routes/session.js';
import { eventRoutes, type EventSettings } from './routes/events.js';
import { consoleRoutes } from './routes/console.js';

export interface AppOptions {
  logger: Logger | false;
  /** Largest accepted request body, in bytes. */
  bodyLimit?: number;
  /** Proxies whose X-Forwarded-* headers are believed (Fastify's trustProxy); none by default. */
  trustedProxies?: string[];
  authFailures?: AuthFailureLimit;
  /** /api/events settings not left at their defaults. */
  events?: Partial<EventSettings>;
}

// Bodies are checked strictly (no coercion, unknown fields rejected, every error reported);
// query strings are coerced, since everything in a URL is text.
const bodyAjv = new Ajv({ allErrors: true, coerceTypes: false, removeAdditional: false, useDefaults: false, strict: false });
const queryAjv = new Ajv({ allErrors: true, coerceTypes: 'array', removeAdditional: false, useDefaults: true, strict: false });

export async function buildApp(ctx: ServerContext, options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger === false ? undefined : options.logger,
    logger: options.logger === false ? false : undefined,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    return503OnClosing: true,
    frameworkErrors: frameworkError,
    // Without trusted proxies, X-Forwarded-* from whoever connects is ignored: it could be forged.
    trustProxy: options.trustedProxies && options.trustedProxies.length > 0 ? options.trustedProxies : false,
  } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;

  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : queryAjv).compile(schema));
  const turns = new TurnBudget();
  app.addHook('onRequest', (_req, _reply, done) => turns.admit(() => done()));
  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  installErrorHandling(app);
  await limitAuthFailures(app, options.authFailures ?? DEFAULT_AUTH_FAILURE_LIMIT);
  app.addHook('onRequest', async (req) => checkCookieRequestOrigin(req));

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
    await activityRoutes(scope, ctx);
    await sessionRoutes(scope, ctx);
    await eventRoutes(scope, ctx, options.events);
    await consoleRoutes(scope, ctx);
  });

  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/api/docs', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/api/openapi.json'));
  return app;
}
