// A keyed work queue in the manner of Kubernetes controllers: a key is processed by at most one
// worker at a time; adding a key that is being processed marks it dirty so it runs once more after;
// a handler says when its key should be looked at again; failures are retried with backoff; each run
// has a deadline its signal carries; different keys proceed in parallel.

import { backoffDelay, type BackoffPolicy } from '../lib/backoff.js';
export interface WorkQueueOptions {
  concurrency: number;
  /** The delay after a key's first failure in a row; it doubles with each further one, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A run still going after this long has its signal aborted (every runtime call it makes then ends). */
  deadlineMs: number;
  /** Told how long each run took and how it ended (metrics). */
  onRun?: (durationMs: number, outcome: 'settled' | 'requeued' | 'error') => void;
}

/** What waits and what runs now, for metrics. */
export interface QueueStats {
  waiting: number;
  running: number;
  /** How long the key waiting longest has waited; 0 when none waits. */
  oldestWaitingMs: number;
}

/** What a run asks for: to be looked at again after a while (still converging), or nothing (done). */
export interface HandlerResult {
  requeueAfterMs?: number;
}

export type Handler = (key: string, signal: AbortSignal) => Promise<HandlerResult>;

export class DeadlineExceeded extends Error {
  constructor(key: string, ms: number) {
    super(`${key}: not done within ${ms} ms; cancelled, retried with backoff`);
    this.name = 'DeadlineExceeded';
  }
}

export class WorkQueue {
  private readonly queued = new Set<string>();
  /** When each waiting key was queued (the head of `order` is the oldest). */
  private readonly queuedAt = new Map<string, number>();
  /** Keys in arrival order from `head` on: Array.shift() copies the whole array once it is large (a resync queues every workspace). */
  private order: string[] = [];
  private head = 0;
  private readonly active = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly idleWaiters: (() => void)[] = [];
  /** The cancellation of each run in progress (stop() aborts them). */
  private readonly runs = new Map<string, AbortController>();
  private readonly retries: BackoffPolicy;
  private running = 0;
  private stopped = false;
  private resumeScheduled = false;

  constructor(
    private readonly handler: Handler,
    private readonly options: WorkQueueOptions,
    private readonly onError: (key: string, error: unknown, attempt: number) => void = () => {},
  ) {
    // ±20 %: many keys failing against one recovering engine do not all retry at once.
    this.retries = { baseMs: options.baseDelayMs, maxMs: options.maxDelayMs, jitter: 0.2 };
  }

  add(key: string): void {
    if (this.stopped) return;
    const timer = this.timers.get(key);
    if (timer) {
      clearTimeout(timer);
      this.timers.delete(key);
    }
    if (this.active.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queuedAt.set(key, Date.now());
    this.order.push(key);
    this.pump();
  }

  /** Adds the key after a delay, unless it is added sooner. */
  addAfter(key: string, delayMs: number): void {
    if (this.stopped || this.timers.has(key) || this.queued.has(key)) return;
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.timers.set(key, timer);
  }

  failureCount(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  stats(): QueueStats {
    const oldest = this.head < this.order.length ? this.queuedAt.get(this.order[this.head]!) : undefined;
    return { waiting: this.order.length - this.head, running: this.running, oldestWaitingMs: oldest === undefined ? 0 : Math.max(0, Date.now() - oldest) };
  }

  get length(): number {
    return this.order.length - this.head + this.running;
  }

  /** Resolves when nothing is queued or running (timers may still be pending). */
  async drained(): Promise<void> {
    if (this.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Nothing more is started; runs in progress are cancelled through their signal. */
  stop(): void {
    this.stopped = true;
    for (const run of this.runs.values()) run.abort(new Error('the work queue stopped'));
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.order = [];
    this.head = 0;
    this.queued.clear();
    this.queuedAt.clear();
  }

  private pump(): void {
    while (!this.stopped && this.running < this.options.concurrency && this.head < this.order.length) {
      const key = this.order[this.head++]!;
      if (this.head === this.order.length) {
        this.order = [];
        this.head = 0;
      } else if (this.head >= 1024 && this.head * 2 >= this.order.length) {
        this.order = this.order.slice(this.head);
        this.head = 0;
      }
      this.queued.delete(key);
      this.queuedAt.delete(key);
      this.active.add(key);
      this.running++;
      void this.process(key);
    }
    if (this.length === 0) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  /**
   * A handler whose reads and writes all complete at once (SQLite answers synchronously, a runtime
   * with nothing to do) never gives the event loop a turn: the next key starts after the loop has
   * served what waits (I/O, timers), so HTTP requests are answered during a resync.
   */
  private pumpNextTurn(): void {
    if (this.resumeScheduled) return;
    this.resumeScheduled = true;
    setImmediate(() => {
      this.resumeScheduled = false;
      this.pump();
    });
  }

  private async process(key: string): Promise<void> {
    let retryDelay: number | undefined;
    const run = new AbortController();
    this.runs.set(key, run);
    const deadline = setTimeout(() => run.abort(new DeadlineExceeded(key, this.options.deadlineMs)), this.options.deadlineMs);
    deadline.unref();
    const began = performance.now();
    try {
      const result = await this.handler(key, run.signal);
      this.failures.delete(key);
      retryDelay = result.requeueAfterMs;
      this.options.onRun?.(performance.now() - began, retryDelay === undefined ? 'settled' : 'requeued');
    } catch (error) {
      this.options.onRun?.(performance.now() - began, 'error');
      const attempt = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, attempt);
      retryDelay = backoffDelay(this.retries, attempt);
      this.onError(key, error, attempt);
    } finally {
      clearTimeout(deadline);
      this.runs.delete(key);
      this.active.delete(key);
      this.running--;
      if (this.dirty.delete(key)) this.add(key);
      else if (retryDelay !== undefined) this.addAfter(key, retryDelay);
      this.pumpNextTurn();
    }
  }
}
