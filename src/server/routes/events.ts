// GET /api/events: server-sent events of workspace and operation changes, filtered to what the
// caller may view when each is sent. EventSource sends cookies, so the console's session works here
// too. Events are recorded once in an EventLog; each client reads it through an EventStream with a
// bounded buffer. docs/security.md ("Server-sent events") says what a client can rely on.
import { Type } from 'typebox';
import { WsmError } from '../../core/errors.js';
import { principalOf } from '../auth-hook.js';
import type { ServerContext, WsmApp } from '../context.js';
import { ERRORS, textBody } from '../responses.js';
import { DEFAULT_EVENT_LOG_LIMITS, EventLog } from '../event-log.js';
import { EventStream } from '../event-stream.js';

export interface EventSettings {
  /** Bytes buffered for one client before writing to it waits for its socket to drain. */
  bufferBytes: number;
  /** Open streams one token may have at once; one more is a 429. */
  maxStreamsPerToken: number;
  /** The replay window for Last-Event-ID: this many events, and at most this many bytes of them. */
  replayEvents: number;
  replayBytes: number;
  heartbeatMs: number;
  reverifyMs: number;
  /** A client whose full buffer has not shrunk for this long is disconnected. */
  stallMs: number;
  /** Recording goes on this long after the last stream closed. */
  lingerMs: number;
}

export const DEFAULT_EVENT_SETTINGS: EventSettings = {
  bufferBytes: 1024 * 1024,
  maxStreamsPerToken: 10,
  replayEvents: DEFAULT_EVENT_LOG_LIMITS.maxEvents,
  replayBytes: DEFAULT_EVENT_LOG_LIMITS.maxBytes,
  heartbeatMs: 15_000,
  // Expiry is checked against the clock on every verification, so this bounds how long a stream
  // outlives its token when no events come; events themselves are checked as they are sent.
  reverifyMs: 1_000,
  stallMs: 10_000,
  lingerMs: DEFAULT_EVENT_LOG_LIMITS.lingerMs,
};

const LastEventQuery = Type.Object({
  last_event_id: Type.Optional(Type.String({ maxLength: 64, description: 'As the Last-Event-ID header, for clients that cannot set it' })),
});

const EventsSchema = {
  tags: ['events'],
  summary: 'Server-sent events: workspace, deleted, operation; reset and auth',
  querystring: LastEventQuery,
  response: { 200: textBody('text/event-stream', 'A stream of events, each a JSON object in its data line'), ...ERRORS },
};

export async function eventRoutes(app: WsmApp, ctx: ServerContext, options: Partial<EventSettings> = {}): Promise<void> {
  const settings = { ...DEFAULT_EVENT_SETTINGS, ...options };
  const limits = { maxEvents: settings.replayEvents, maxBytes: settings.replayBytes, lingerMs: settings.lingerMs };
  const log = new EventLog(ctx.store, limits, (err) => app.log.warn({ err }, 'event not recorded'), ctx.proxy && ((name: string) => ctx.proxy!.addressing.workspaceUrl(name)));
  const open = new Set<EventStream>();
  const perToken = new Map<string, number>();
  // Hijacked responses would keep app.close() waiting forever; end them first.
  app.addHook('preClose', async () => {
    for (const stream of [...open]) stream.close();
    log.close();
  });

  app.get(
    '/api/events',
    { config: { auth: 'signed-in' }, schema: EventsSchema },
    async (req, reply) => {
      const principal = principalOf(req);
      const key = principal.tokenId ?? principal.actor;
      const count = perToken.get(key) ?? 0;
      if (count >= settings.maxStreamsPerToken) {
        reply.header('retry-after', '5');
        throw new WsmError('too_many_requests', `This token already has ${count} open event streams, the most allowed (WSM_EVENTS_MAX_STREAMS_PER_TOKEN); close one first.`);
      }
      perToken.set(key, count + 1);
      const header = req.headers['last-event-id'];
      const lastEventId = (typeof header === 'string' ? header : undefined) ?? req.query.last_event_id;

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        'x-accel-buffering': 'no',
        'x-request-id': req.id,
      });
      log.retain();
      const resume = log.resume(lastEventId?.trim());
      const cursor = 'seq' in resume ? resume.seq : log.latestSeq;
      const stream = new EventStream(res, log, cursor, () => ctx.auth.authenticate(req), settings, () => {
        open.delete(stream);
        const left = (perToken.get(key) ?? 1) - 1;
        if (left > 0) perToken.set(key, left);
        else perToken.delete(key);
        log.release();
      });
      open.add(stream);
      stream.start('reset' in resume ? resume.reset : undefined);
    },
  );
}
