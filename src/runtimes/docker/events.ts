// Following the engine's event stream for wsm's containers, so a container that dies or is killed
// behind wsm's back is noticed within seconds instead of at the next resync.
import type Docker from 'dockerode';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, WORKSPACE_LABEL } from './spec.js';
import { Backoff } from '../../lib/backoff.js';

/** Container events that change what observe() reports; exec_* and attach events do not. */
const RELEVANT = new Set([
  'create',
  'start',
  'restart',
  'die',
  'stop',
  'kill',
  'oom',
  'destroy',
  'pause',
  'unpause',
  'rename',
  'update',
]);

interface EngineEvent {
  Type?: string;
  Action?: string;
  status?: string;
  time?: number;
  Actor?: { Attributes?: Record<string, string> };
}

interface WatchLogger {
  warn(obj: object, msg: string): void;
  debug?(obj: object, msg: string): void;
}

export interface WatchOptions {
  /** More `key=value` label filters, beyond managed-by=wsm. */
  labels?: string[];
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  logger?: WatchLogger;
  /** Hears each reconnect (metrics). */
  onRestart?: (reason: 'lost') => void;
}

export function isRelevantAction(action: string): boolean {
  return RELEVANT.has(action) || action.startsWith('health_status');
}

/** Subscribes, and keeps resubscribing with backoff while the engine is away. Returns unsubscribe. */
export function watchEvents(docker: Docker, onChange: (name: string) => void, options: WatchOptions = {}): () => void {
  const backoff = new Backoff({ baseMs: options.initialBackoffMs ?? 500, maxMs: options.maxBackoffMs ?? 30_000, jitter: 0.2 });
  let stopped = false;
  let current: NodeJS.ReadableStream | undefined;
  let timer: NodeJS.Timeout | undefined;
  // Asking for events since just before the subscription (and, after a disconnect, since the last
  // event seen) means nothing is lost while the stream connects; a repeated event is harmless.
  let since = Math.floor(Date.now() / 1000) - 2;

  const handle = (event: EngineEvent) => {
    if (typeof event.time === 'number') since = event.time;
    const action = event.Action ?? event.status ?? '';
    const name = event.Actor?.Attributes?.[WORKSPACE_LABEL];
    if (event.Type === 'container' && name && isRelevantAction(action)) {
      try {
        onChange(name);
      } catch (err) {
        options.logger?.warn({ err, name }, 'watch callback threw');
      }
    }
  };

  const reconnect = (reason: unknown) => {
    current = undefined;
    if (stopped) return;
    const delay = backoff.next();
    options.onRestart?.('lost');
    options.logger?.warn({ err: reason instanceof Error ? reason.message : reason, retryInMs: delay }, 'docker event stream lost');
    timer = setTimeout(connect, delay);
    timer.unref?.();
  };

  const connect = () => {
    timer = undefined;
    if (stopped) return;
    const filters = { type: ['container' as const], label: [`${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`, ...(options.labels ?? [])] };
    docker.getEvents({ filters, since }, (err, stream) => {
      if (err || !stream) return reconnect(err ?? new Error('no event stream'));
      if (stopped) {
        (stream as unknown as { destroy(): void }).destroy();
        return;
      }
      current = stream;
      backoff.reset();
      let buffered = '';
      stream.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (!line) continue;
          try {
            handle(JSON.parse(line) as EngineEvent);
          } catch {
            options.logger?.debug?.({ line }, 'unparsable docker event');
          }
        }
      });
      let ended = false;
      const onEnd = (reason: unknown) => {
        if (ended) return;
        ended = true;
        if (current === stream) reconnect(reason);
      };
      stream.on('end', () => onEnd(new Error('event stream ended')));
      stream.on('close', () => onEnd(new Error('event stream closed')));
      stream.on('error', (e: Error) => onEnd(e));
    });
  };

  connect();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    const stream = current as unknown as { destroy?: () => void } | undefined;
    current = undefined;
    stream?.destroy?.();
  };
}
