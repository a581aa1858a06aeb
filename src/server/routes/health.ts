// /healthz (the process answers) and /readyz (it can serve: the store answers and is migrated), both
// without auth for orchestrators' probes. An engine that is down is reported in /readyz's body but
// does not make the replica unready: reads, the console and the queueing of actions keep working,
// and the controller converges once the engine is back. /api/status stays as it was for scripts.
import { Type } from 'typebox';
import type { Readiness, ReadinessChecker } from '../../metrics/readiness.js';
import type { WsmApp } from '../context.js';
import { ERRORS } from '../responses.js';

const Alive = Type.Object({ status: Type.Literal('alive') });

const Reachability = Type.Object({ reachable: Type.Boolean(), error: Type.Optional(Type.String()) });

const ReadyBody = Type.Object({
  status: Type.Enum(['ready', 'not_ready', 'draining'], { description: 'draining: the replica is shutting down (SIGTERM); it still answers what reaches it' }),
  reason: Type.Optional(Type.String({ description: 'Why the replica is not ready (the store unreachable, a migration not applied)' })),
  runtimes: Type.Record(Type.String(), Reachability, { description: 'Each runtime\'s engine: reachable or not, with the error; informational, never a cause of unreadiness' }),
  leader: Type.Optional(
    Type.Object(
      { leading: Type.Boolean(), term: Type.Optional(Type.Integer({ minimum: 1 })) },
      { description: 'Whether this replica leads (runs the controller, the culler and scheduled work), and its term; informational' },
    ),
  ),
});

export function readinessBody(readiness: Readiness) {
  const status = readiness.draining ? ('draining' as const) : readiness.ready ? ('ready' as const) : ('not_ready' as const);
  return { status, ...(readiness.reason ? { reason: readiness.reason } : {}), runtimes: readiness.runtimes, ...(readiness.leader ? { leader: readiness.leader } : {}) };
}

export async function healthRoutes(app: WsmApp, readiness: ReadinessChecker): Promise<void> {
  app.get('/healthz', { config: { auth: 'public' }, schema: { tags: ['status'], summary: 'Liveness: the process answers', response: { 200: Alive, ...ERRORS } } }, async () => ({ status: 'alive' as const }));
  app.get(
    '/readyz',
    { config: { auth: 'public' }, schema: { tags: ['status'], summary: 'Readiness: the store answers and is migrated; engines reported, not required', response: { 200: ReadyBody, 503: ReadyBody, ...ERRORS } } },
    async (_req, reply) => {
      const answer = await readiness.check();
      return reply.status(answer.ready ? 200 : 503).send(readinessBody(answer));
    },
  );
}
