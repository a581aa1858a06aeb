// Idempotency-Key on POST/PUT: a retried request gets the first answer instead of acting twice.
// Keys are per actor; the same key with a different request is a conflict.
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { WsmError } from '../core/errors.js';
import { Backoff, type BackoffPolicy } from '../lib/backoff.js';
import { KeyedMutex } from '../lib/keyed-mutex.js';
import type { IdempotencyRecord } from '../store/store.js';
import type { Principal } from './auth.js';
import type { ServerContext } from './context.js';

const locks = new KeyedMutex();
/** The status of a claim whose request is still being answered (no HTTP answer has it). */
const IN_PROGRESS = 0;
/** How long a request waits for another replica's answer to the same key. */
const CLAIM_WAIT_MS = 60_000;
const CLAIM_POLL_MS = 100;
/** A claim this old was left by a replica that died answering it. */
const CLAIM_ABANDONED_MS = 300_000;
/** Retries of a claim's write that failed: a quarter second after the first failure, doubling to 5 s. */
const SETTLE_RETRY: BackoffPolicy = { baseMs: 250, maxMs: 5_000, jitter: 0.2 };

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
  const actor = principal.actor;
  const replay = (previous: IdempotencyRecord) => {
    if (previous.fingerprint !== fingerprint) {
      throw new WsmError('conflict', 'This Idempotency-Key was already used for a different request.');
    }
    reply.header('idempotent-replayed', 'true');
    for (const [name, value] of Object.entries(previous.response.headers ?? {})) reply.header(name, value);
    return reply.status(previous.response.status).send(previous.response.body);
  };
  return locks.run(`${actor}\n${key}`, async () => {
    // Replicas share no lock: the key is claimed in the store first (the first insert wins), and a
    // replica that finds another's claim waits for its answer.
    const waitUntil = Date.now() + CLAIM_WAIT_MS;
    for (;;) {
      const nonce = randomBytes(9).toString('hex');
      const claim: IdempotencyRecord = { key, actor, fingerprint, response: { status: IN_PROGRESS, body: { claim: nonce } }, created_at: new Date().toISOString() };
      await ctx.store.putIdempotency(claim);
      const stored = await ctx.store.getIdempotency(key, actor);
      if (stored === undefined) continue; // removed in between (a failed claim): claim again
      if (stored.response.status !== IN_PROGRESS) return replay(stored);
      const ours = (stored.response.body as { claim?: string } | null)?.claim === nonce;
      if (!ours) {
        if (stored.fingerprint !== fingerprint) return replay(stored);
        if (Date.now() - Date.parse(stored.created_at) > CLAIM_ABANDONED_MS) {
          // Its replica died while answering: the request was either done or not, and runs again idempotently.
          await ctx.store.deleteIdempotency(key, actor, stored.created_at);
          continue;
        }
        if (Date.now() > waitUntil) throw new WsmError('conflict', 'A request with this Idempotency-Key is still being answered; retry later.');
        await new Promise((resolve) => setTimeout(resolve, CLAIM_POLL_MS));
        continue;
      }
      let answer: RouteAnswer;
      try {
        answer = await run();
      } catch (err) {
        await untilDone(() => ctx.store.deleteIdempotency(key, actor, claim.created_at));
        throw err;
      }
      if (answer.status >= 300) {
        await untilDone(() => ctx.store.deleteIdempotency(key, actor, claim.created_at));
        return reply.status(answer.status).send(answer.body);
      }
      // Stored before the answer leaves: a client that retries after a lost reply gets this answer. The
      // action is done: a store that cannot take the answer now takes it once it can, and a retry meanwhile
      // waits for it (the claim stands) instead of acting twice.
      const etag = reply.getHeader('etag');
      await untilDone(() => ctx.store.settleIdempotency(key, actor, { status: answer.status, body: answer.body, headers: typeof etag === 'string' ? { etag } : undefined }));
      return reply.status(answer.status).send(answer.body);
    }
  });
}

/**
 * Writes what becomes of a claim (its answer, or its removal). When the store cannot be reached (a
 * database restarting), the write is tried again in the background until it succeeds: a claim left in
 * progress would refuse every retry of the request with 409 until it counted as abandoned, minutes later.
 */
async function untilDone(write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch {
    const until = Date.now() + CLAIM_ABANDONED_MS;
    const backoff = new Backoff(SETTLE_RETRY);
    const again = () => {
      write().catch(() => {
        if (Date.now() <= until) setTimeout(again, backoff.next()).unref();
      });
    };
    setTimeout(again, backoff.next()).unref();
  }
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
