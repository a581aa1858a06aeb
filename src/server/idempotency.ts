// Idempotency-Key on POST/PUT: a retried request gets the first answer instead of acting twice.
// Keys are per actor; the same key with a different request is a conflict.
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { WsmError } from '../core/errors.js';
import { KeyedMutex } from '../lib/keyed-mutex.js';
import type { Principal } from './auth.js';
import type { ServerContext } from './context.js';

const locks = new KeyedMutex();

export interface RouteAnswer {
  status: number;
  body: unknown;
}

export async function withIdempotency(
  ctx: ServerContext,
  req: FastifyRequest,
  reply: FastifyReply,
  principal: Principal,
  run: () => Promise<RouteAnswer>,
): Promise<FastifyReply> {
  const key = req.headers['idempotency-key'];
  if (typeof key !== 'string' || key === '') {
    const answer = await run();
    return reply.status(answer.status).send(answer.body);
  }
  if (key.length > 200) throw new WsmError('validation_error', 'Idempotency-Key: must be at most 200 characters', [{ field: 'Idempotency-Key', message: 'must be at most 200 characters' }]);
  const fingerprint = createHash('sha256').update(`${req.method} ${req.url}\n${JSON.stringify(req.body ?? null)}`).digest('hex');
  return locks.run(`${principal.actor}\n${key}`, async () => {
    const previous = await ctx.store.getIdempotency(key, principal.actor);
    if (previous) {
      if (previous.fingerprint !== fingerprint) {
        throw new WsmError('conflict', 'This Idempotency-Key was already used for a different request.');
      }
      reply.header('idempotent-replayed', 'true');
      for (const [name, value] of Object.entries(previous.response.headers ?? {})) reply.header(name, value);
      return reply.status(previous.response.status).send(previous.response.body);
    }
    const answer = await run();
    if (answer.status < 300) {
      // Stored before the answer leaves: a client that retries after a lost reply gets this answer.
      const etag = reply.getHeader('etag');
      await ctx.store.putIdempotency({
        key,
        actor: principal.actor,
        fingerprint,
        response: { status: answer.status, body: answer.body, headers: typeof etag === 'string' ? { etag } : undefined },
        created_at: new Date().toISOString(),
      });
    }
    return reply.status(answer.status).send(answer.body);
  });
}

/**
 * Keys are kept for retentionMs (a client retries within minutes, not days), then removed by a timer
 * that runs every intervalMs, so the table does not grow with every request ever made.
 */
export function startIdempotencyCleanup(
  store: Pick<ServerContext['store'], 'deleteIdempotencyBefore'>,
  options: { retentionMs: number; intervalMs: number; logger: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void } },
): () => void {
  const prune = () => {
    const before = new Date(Date.now() - options.retentionMs).toISOString();
    store.deleteIdempotencyBefore(before).then(
      (removed) => removed > 0 && options.logger.info({ removed, before }, 'idempotency keys removed'),
      (err: unknown) => options.logger.warn({ err }, 'idempotency key clean-up failed; it runs again later'),
    );
  };
  prune();
  const timer = setInterval(prune, options.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
