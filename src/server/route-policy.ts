// Every route declares its contract, checked as it is added, so a route that forgets one fails at
// boot rather than in production: a response schema (Fastify serializes with it, so nothing
// undeclared leaves the server) and who may call it (config.auth; public is an explicit choice).
import type { FastifyInstance } from 'fastify';
import { ROUTE_ACCESS } from './auth-hook.js';

export function requireRouteContracts(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    const where = `${String(route.method)} ${route.url}`;
    if (!route.schema?.response) throw new Error(`${where}: no response schema; declare what the route answers, errors included`);
    const auth: unknown = route.config?.auth;
    if (!ROUTE_ACCESS.some((access) => access === auth)) {
      throw new Error(`${where}: config.auth is ${JSON.stringify(auth)}; declare one of ${ROUTE_ACCESS.join(', ')}`);
    }
  });
}
