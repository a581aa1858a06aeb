// GET /metrics on the API port, only when a metrics token is configured (WSM_METRICS_TOKEN): without
// one the route does not exist, so metrics are never public by accident. The separate metrics port
// (metrics-listener.ts) serves the same text.
import { WsmError } from '../../core/errors.js';
import type { WsmMetrics } from '../../metrics/index.js';
import type { WsmApp } from '../context.js';
import { metricsTokenCheck } from '../metrics-token.js';
import { ERRORS, textBody } from '../responses.js';

export async function metricsRoute(app: WsmApp, metrics: WsmMetrics, token: string): Promise<void> {
  const allowed = metricsTokenCheck(token);
  app.get(
    '/metrics',
    {
      // Not an API token: the route checks its own.
      config: { auth: 'public' },
      schema: { hide: true, response: { 200: textBody('text/plain', 'Prometheus text format'), ...ERRORS } },
      onRequest: async (req) => {
        if (!allowed(req.headers)) throw new WsmError('invalid_oauth_token', 'GET /metrics needs the metrics token (WSM_METRICS_TOKEN) as Authorization: Bearer <token>.');
      },
    },
    async (_req, reply) => reply.type(metrics.contentType).send(await metrics.render()),
  );
}
