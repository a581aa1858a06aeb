// Idempotency-Key on POST/PUT: a retried request gets the first answer instead of acting twice.
// Keys are per actor; the same key with a different request is a conflict.
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { WsmError } from '../core/errors.js';
import { Backoff, type BackoffPolicy } from '../lib/backoff.js';
import { KeyedMutex } from '../lib/keyed-mutex.js';
import type { OperationRecord } from '../core/types.js';
import type { IdempotencyRecord, StoreOps } from '../store/store.js';
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

/** What a claim holds while its request is answered: whose it is, and once its change is written, the operation. */
interface ClaimBody {
  claim: string;
  operation?: string;
  /** The change was written but its request failed before answering (the client left, the store went away). */
  answer_lost?: boolean;
}

export interface IdempotentRoute {
  /** Acts; `writeAlongside` goes into the transaction that writes the request's operation. */
  run(writeAlongside?: (tx: StoreOps, op: OperationRecord) => Promise<void>): Promise<RouteAnswer>;
  /** The answer to a request whose change was written as this operation, for a retry after its answer was lost. */
  answerWritten(operationId: string): Promise<RouteAnswer>;
}

export async function withIdempotency(
  ctx: ServerContext,
  req: FastifyRequest,
  reply: FastifyReply,
  principal: Principal,
  route: IdempotentRoute,
): Promise<FastifyReply> {
  const key = req.headers['idempotency-key'];
  if (typeof key !== 'string' || key === '') {
    const answer = await route.run();
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
  // Stored before the answer leaves: a client that retries after a lost reply gets this answer. The
  // action is done: a store that cannot take the answer now takes it once it can, and a retry meanwhile
  // waits for it (the claim stands) instead of acting twice.
  const settle = async (answer: RouteAnswer) => {
    const etag = reply.getHeader('etag');
    await untilDone(() => ctx.store.settleIdempotency(key, actor, { status: answer.status, body: answer.body, headers: typeof etag === 'string' ? { etag } : undefined }));
  };
  return locks.run(`${actor}\n${key}`, async () => {
    // Replicas share no lock: the key is claimed in the store first (the first insert wins), and a
    // replica that finds another's claim waits for its answer.
    const waitUntil = Date.now() + CLAIM_WAIT_MS;
    for (;;) {
      const nonce = randomBytes(9).toString('hex');
      const claim: IdempotencyRecord = { key, actor, fingerprint, response: { status: IN_PROGRESS, body: { claim: nonce } satisfies ClaimBody }, created_at: new Date().toISOString() };
      let stored: IdempotencyRecord | undefined;
      try {
        await ctx.store.putIdempotency(claim);
        stored = await ctx.store.getIdempotency(key, actor);
      } catch (err) {
        // The claim may have been written before the store failed to say so: left, it would hold every retry back.
        await untilDone(() => release(ctx.store, key, actor, nonce));
        throw err;
      }
      if (stored === undefined) continue; // removed in between (a failed claim): claim again
      if (stored.response.status !== IN_PROGRESS) return replay(stored);
      const held = (stored.response.body ?? {}) as ClaimBody;
      if (held.claim !== nonce) {
        if (stored.fingerprint !== fingerprint) return replay(stored);
        const abandoned = Date.now() - Date.parse(stored.created_at) > CLAIM_ABANDONED_MS;
        if (held.operation !== undefined && (held.answer_lost || abandoned)) {
          // The change was made once: its answer is built again from the operation, never by acting twice.
          const answer = await route.answerWritten(held.operation);
          if (answer.status < 300) await settle(answer);
          reply.header('idempotent-replayed', 'true');
          return reply.status(answer.status).send(answer.body);
        }
        if (abandoned) {
          // Its replica died before writing the change: the request runs again.
          await ctx.store.deleteIdempotency(key, actor, stored.created_at);
          continue;
        }
        if (Date.now() > waitUntil) throw new WsmError('conflict', 'A request with this Idempotency-Key is still being answered; retry later.');
        await new Promise((resolve) => setTimeout(resolve, CLAIM_POLL_MS));
        continue;
      }
      const writeAlongside = async (tx: StoreOps, op: OperationRecord) => {
        await tx.settleIdempotency(key, actor, { status: IN_PROGRESS, body: { claim: nonce, operation: op.id } satisfies ClaimBody });
      };
      let answer: RouteAnswer;
      try {
        answer = await route.run(writeAlongside);
      } catch (err) {
        await untilDone(() => release(ctx.store, key, actor, nonce));
        throw err;
      }
      if (answer.status >= 300) {
        await untilDone(() => release(ctx.store, key, actor, nonce));
        return reply.status(answer.status).send(answer.body);
      }
      await settle(answer);
      return reply.status(answer.status).send(answer.body);
    }
  });
}

/**
 * Gives up a claim whose request did not answer. Whether its change was written is read back from the
 * claim (written in the same transaction), not guessed from the error: a commit whose reply was lost
 * may have gone through. Unwritten, the claim goes and a retry acts; written, it is marked so that a
 * retry answers from the operation at once.
 */
async function release(store: ServerContext['store'], key: string, actor: string, nonce: string): Promise<void> {
  await store.transaction(async (tx) => {
    const stored = await tx.getIdempotency(key, actor);
    const held = stored?.response.body as ClaimBody | undefined;
    if (stored === undefined || stored.response.status !== IN_PROGRESS || held?.claim !== nonce) return;
    if (held.operation === undefined) await tx.deleteIdempotency(key, actor, stored.created_at);
    else await tx.settleIdempotency(key, actor, { status: IN_PROGRESS, body: { ...held, answer_lost: true } satisfies ClaimBody });
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
