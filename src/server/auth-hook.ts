// Who may call a route is part of the route: `config.auth` is 'public', 'signed-in' (any valid token;
// the handler shows only what the caller may view) or the role needed. A role is needed on the
// workspace the path names (`:name`), else on every workspace. Every other route is authenticated
// before anything else runs, so an unknown caller learns nothing about bodies or workspaces.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Role } from '../core/types.js';
import { requireRole, type Authenticator, type Principal } from './auth.js';

export const ROUTE_ACCESS = ['public', 'signed-in', 'viewer', 'editor', 'owner'] as const;
export type RouteAccess = 'public' | 'signed-in' | Role;

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth hook on every route that is not public. */
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    auth?: RouteAccess;
    /** A public route that verifies a token of its own (sign-in): its failures are limited like the hook's. */
    checksToken?: boolean;
  }
}

/** The caller of a route that is not public (the hook has set it before any handler runs). */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new Error(`${req.method} ${req.routeOptions.url}: no principal; is the route public?`);
  return req.principal;
}

function workspaceOf(req: FastifyRequest): string | undefined {
  const params = req.params;
  return typeof params === 'object' && params !== null && 'name' in params && typeof params.name === 'string' ? params.name : undefined;
}

export function installAuth(app: FastifyInstance, auth: Authenticator): void {
  app.decorateRequest('principal', null);

  app.addHook('onRequest', async (req) => {
    // No route: the not-found handler answers 404, as it does for everyone.
    if (req.is404 || req.routeOptions.config.auth === 'public') return;
    req.principal = await auth.authenticate(req);
  });

  // The role is checked once the body is parsed and valid, so a refused action is audited with what it asked for.
  app.addHook('preHandler', async (req) => {
    const need = req.routeOptions.config.auth;
    if (req.is404 || need === undefined || need === 'public' || need === 'signed-in') return;
    requireRole(principalOf(req), need, workspaceOf(req));
  });
}
