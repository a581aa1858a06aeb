// A limit on failed authentication per client: guessing tokens gets slow. Only answers of 401 count;
// once a client (req.ip, which honours the trusted proxies) has had `limit` of them within the window,
// every further API request from it is answered 429 with Retry-After until the window ends, even with a
// valid token, so a guesser learns nothing from a lucky hit. Which routes are limited follows their own
// declaration, as the auth hook reads it: a public route (status, OpenAPI, the console page) stays open
// unless it checks a token itself (sign-in, `config.checksToken`); an unknown API path is limited. Counts live in this process: each replica counts on its own.
import rateLimit, { normalizeIP } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { WsmError } from '../core/errors.js';
import { errorBody } from './errors.js';

export interface AuthFailureLimit {
  /** Failed authentications allowed per client within the window; 0 turns the limit off. */
  limit: number;
  windowSeconds: number;
}

export const DEFAULT_AUTH_FAILURE_LIMIT: AuthFailureLimit = { limit: 30, windowSeconds: 60 };

/** Past this many clients at their limit at once, every request is checked against the limiter. */
const MAX_NOTED_CLIENTS = 10_000;

function limited(req: FastifyRequest): boolean {
  if (req.is404) return req.url.startsWith('/api/');
  const { auth, checksToken } = req.routeOptions.config;
  return auth !== 'public' || checksToken === true;
}

export async function limitAuthFailures(app: FastifyInstance, options: AuthFailureLimit): Promise<void> {
  if (options.limit === 0) return;
  // global: false: the plugin's own hook would count every request; here only failures are counted.
  const keyOf = (req: FastifyRequest) => (req.ip ? normalizeIP(req.ip) : 'unknown');
  await app.register(rateLimit, {
    global: false,
    max: options.limit,
    timeWindow: options.windowSeconds * 1000,
    // IPv6 clients by /64, as the plugin does; a request whose socket already closed has no address.
    keyGenerator: keyOf,
  });
  const failures = app.createRateLimit();
  // Peeking at the limiter costs every request a few microseconds; only a client that has reached the
  // limit can be refused, so only those are looked up. A client is noted here (until its window ends)
  // by the failure that reached the limit; each note has a number, so a check that found the client
  // allowed does not drop a note a failure made meanwhile. Too many notes: every client is checked.
  const reached = new Map<string, { until: number; note: number }>();
  let notes = 0;

  app.addHook('onRequest', async (req, reply) => {
    if (reached.size === 0 || !limited(req)) return;
    const key = keyOf(req);
    const noted = reached.get(key);
    if (noted === undefined && reached.size < MAX_NOTED_CLIENTS) return;
    const seen = await failures(req, { increment: false });
    if (seen.isAllowed || seen.remaining > 0) {
      if (noted !== undefined && reached.get(key) === noted) reached.delete(key);
      return;
    }
    const error = new WsmError('too_many_requests', `Too many failed authentications from ${req.ip}: ${options.limit} within ${options.windowSeconds} s. Try again in ${seen.ttlInSeconds} s.`);
    return reply.status(429).header('retry-after', String(Math.max(1, seen.ttlInSeconds))).send(errorBody(error));
  });

  // Counted as the 401 is sent; requests already past the check when the limit is reached still finish.
  app.addHook('onSend', async (req, reply) => {
    if (reply.statusCode !== 401) return;
    const counted = await failures(req);
    if (counted.isAllowed || counted.remaining > 0) return;
    const now = Date.now();
    if (reached.size >= MAX_NOTED_CLIENTS) for (const [key, { until }] of reached) if (until <= now) reached.delete(key);
    reached.set(counted.key, { until: now + counted.ttl, note: ++notes });
  });
}
