// /api/status: readiness, without auth, for load balancers and the CLI.
import type { ServerContext, WsmApp } from '../context.js';
import { ERRORS, Status } from '../responses.js';

export async function statusRoutes(app: WsmApp, ctx: ServerContext): Promise<void> {
  app.get('/api/status', { config: { auth: 'public' }, schema: { tags: ['status'], summary: 'Readiness of the server', response: { 200: Status, ...ERRORS } } }, async () => ({
    status: 'ok' as const,
    version: ctx.version,
    cluster_types: ctx.controller.clusterTypes,
  }));
}
