// /api/status: readiness, without auth, for load balancers and the CLI.
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';

export async function statusRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.get('/api/status', { schema: { tags: ['status'], summary: 'Readiness of the server' } }, async () => ({
    status: 'ok',
    version: ctx.version,
    cluster_types: ctx.controller.clusterTypes,
  }));
}
