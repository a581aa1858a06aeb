// Leader election: one replica at a time holds the lease and runs the reconciler, the culler and
// whatever is scheduled; the others only serve requests. The lease is renewed well before it expires;
// a replica that could not renew stops acting a safety margin before its lease could have expired by
// its own monotonic clock (which keeps counting while the process is paused), so it has stopped before
// any other replica can take over. Each take of the lease is a new term; the duties of a term are
// given a LeaderTerm to check before they act (fencing).
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { LeaseHolder } from '../store/leader-lease.js';
import type { Logger } from '../lib/logger.js';

/** Pauses between fencing checks the database did not answer: from this, doubling, up to the max. */
const CONFIRM_RETRY_MIN_MS = 50;
const CONFIRM_RETRY_MAX_MS = 1_000;

export interface LeadershipTimings {
  /** How long a lease lasts after each renewal: a dead leader is replaced within about this long. */
  leaseMs: number;
  /** How often the leader renews (and a follower tries to take the lease). */
  renewEveryMs: number;
  /** How long before the lease's end the leader stops acting when it could not renew. */
  marginMs: number;
}

/** The timings for a lease of `leaseMs`: renew three times per lease, stop a fifth of it early. */
export function timingsFor(leaseMs: number): LeadershipTimings {
  return { leaseMs, renewEveryMs: Math.max(100, Math.floor(leaseMs / 3)), marginMs: Math.floor(leaseMs / 5) };
}

/** Starts a term's duties; resolves to what stops them. */
export type Duties = (term: LeaderTerm) => Promise<() => Promise<void>>;

/** One term of this replica's leadership, as its duties see it. */
export class LeaderTerm {
  constructor(
    readonly term: number,
    private readonly leadership: Leadership,
  ) {}

  /** Whether this term still holds by the local clock (no I/O): false as soon as it may have ended. */
  get current(): boolean {
    return this.leadership.actsFor(this.term);
  }

  /**
   * Whether the database still gives this term more than the margin: asked before acting on an engine.
   * False only once the term is over (denied by the database, or ended by the local clock); while the
   * database does not answer, it keeps asking.
   */
  confirm(): Promise<boolean> {
    return this.leadership.confirm(this.term);
  }
}

export class Leadership {
  readonly holder = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private active: { term: LeaderTerm; stop: Promise<() => Promise<void>> } | undefined;
  /** performance.now() until which the current lease may be acted on. */
  private validUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private deadline: NodeJS.Timeout | undefined;
  private stopped = false;
  private chain: Promise<void> = Promise.resolve();
  private ticking: Promise<void> | undefined;

  constructor(
    private readonly lease: LeaseHolder,
    private readonly timings: LeadershipTimings,
    private readonly duties: Duties,
    private readonly logger: Logger,
  ) {}

  get leading(): boolean {
    return this.active !== undefined && this.actsFor(this.active.term.term);
  }

  /** The term this replica leads in, if it leads. */
  get term(): number | undefined {
    return this.leading ? this.active!.term.term : undefined;
  }

  actsFor(term: number): boolean {
    return !this.stopped && this.active?.term.term === term && performance.now() < this.validUntil;
  }

  async confirm(term: number): Promise<boolean> {
    for (let pauseMs = CONFIRM_RETRY_MIN_MS; this.actsFor(term); pauseMs = Math.min(2 * pauseMs, CONFIRM_RETRY_MAX_MS)) {
      let held: boolean;
      try {
        held = await this.lease.holds(this.holder, term, this.timings.marginMs);
      } catch (err) {
        // No answer is not a refusal: a false here would leave the caller's fenced call hanging for
        // the rest of a term that may well go on. Ask again until the term ends by the local clock
        // (which it does at its deadline when the renewals fail too).
        this.logger.warn({ err, term }, 'could not confirm the lease; asking again');
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(pauseMs, this.validUntil - performance.now()))));
        continue;
      }
      if (held) return this.actsFor(term);
      this.logger.warn({ term }, 'the lease is no longer ours; stopping the leader duties');
      this.depose(term);
      return false;
    }
    return false;
  }

  /** Takes part in the election from now on: the first attempt is made before this resolves. */
  async start(): Promise<void> {
    await this.tick();
  }

  /** Resolves once the duties of the terms begun or ended so far have started or stopped. */
  async settled(): Promise<void> {
    await this.chain;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), this.timings.renewEveryMs);
  }

  private tick(): Promise<void> {
    this.ticking ??= this.renew().finally(() => {
      this.ticking = undefined;
      this.schedule();
    });
    return this.ticking;
  }

  private async renew(): Promise<void> {
    const sentAt = performance.now();
    let grant: { term: number } | undefined;
    try {
      grant = await this.lease.acquireOrRenew(this.holder, this.timings.leaseMs);
    } catch (err) {
      // Unknown whether it was renewed: act on the old lease until its margin, as the deadline says.
      this.logger.warn({ err }, 'could not renew the leader lease');
      return;
    }
    if (this.stopped) return;
    const current = this.active?.term.term;
    if (grant === undefined) {
      if (current !== undefined) {
        this.logger.warn({ term: current }, 'another replica holds the lease; stopping the leader duties');
        this.depose(current);
      }
      return;
    }
    if (current !== undefined && current !== grant.term) this.depose(current);
    this.validUntil = sentAt + this.timings.leaseMs - this.timings.marginMs;
    this.armDeadline(grant.term);
    if (this.active?.term.term !== grant.term) this.elect(grant.term);
  }

  /** Stops the term's duties when its lease runs out without a renewal. */
  private armDeadline(term: number): void {
    clearTimeout(this.deadline);
    this.deadline = setTimeout(() => {
      if (this.active?.term.term !== term) return;
      // A timer may fire a fraction of a millisecond early by this clock: look again then, never drop it.
      if (performance.now() < this.validUntil) return this.armDeadline(term);
      this.logger.warn({ term }, 'the leader lease could not be renewed in time; stopping the leader duties');
      this.depose(term);
    }, Math.max(0, Math.ceil(this.validUntil - performance.now())));
  }

  private elect(term: number): void {
    const leaderTerm = new LeaderTerm(term, this);
    this.logger.info({ term, holder: this.holder }, 'this replica leads');
    const stop = new Promise<() => Promise<void>>((resolve) => {
      this.chain = this.chain.then(async () => {
        try {
          resolve(await this.duties(leaderTerm));
        } catch (err) {
          // Leading without duties would leave every workspace unreconciled for the whole term: give
          // the term up here, and the next renewal (ours again) starts the duties anew.
          this.logger.error({ err, term }, 'the leader duties failed to start; trying again at the next renewal');
          resolve(async () => {});
          this.depose(term);
        }
      });
    });
    this.active = { term: leaderTerm, stop };
  }

  private depose(term: number): void {
    const active = this.active;
    if (active?.term.term !== term) return;
    this.active = undefined;
    this.chain = this.chain.then(async () => {
      try {
        await (await active.stop)();
      } catch (err) {
        this.logger.error({ err, term }, 'the leader duties failed to stop');
      }
    });
  }

  /** Stops the duties and hands the lease over (another replica can take it at once). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.deadline);
    await this.ticking?.catch(() => {});
    const active = this.active;
    if (active) {
      this.depose(active.term.term);
      await this.chain;
      await this.lease.release(this.holder, active.term.term).catch((err: unknown) => this.logger.warn({ err }, 'could not release the leader lease'));
    }
    await this.chain;
  }
}

/** The lease of a store only one process uses (SQLite): always ours, in term 1, forever. */
export class SoleLease implements LeaseHolder {
  async acquireOrRenew(): Promise<{ term: number }> {
    return { term: 1 };
  }
  async holds(): Promise<boolean> {
    return true;
  }
  async release(): Promise<void> {}
  async current(): Promise<undefined> {
    return undefined;
  }
  async close(): Promise<void> {}
}
