// Exponential backoff with jitter: how long to wait before trying again after failures in a row.
// Every retry loop of wsm (the reconcile queue, the engines' event streams) asks this one place.

export interface BackoffPolicy {
  /** The delay after the first failure. */
  baseMs: number;
  /** The delay stops doubling here (before jitter). */
  maxMs: number;
  /**
   * Each delay is moved by up to this fraction either way (0.2: 80 % to 120 %), so that many callers
   * failing together against one recovering engine do not all retry in the same instant.
   */
  jitter: number;
}

/** A number in [0, 1), as Math.random gives; tests pass their own to pin the jitter. */
export type Random = () => number;

/** Doubling past this many failures changes nothing once capped, and 2 ** n stays finite. */
const MAX_DOUBLINGS = 30;

/** The delay after `failures` (>= 1) failures in a row: baseMs · 2^(failures − 1), at most maxMs, jittered, whole ms. */
export function backoffDelay(policy: BackoffPolicy, failures: number, random: Random = Math.random): number {
  const doublings = Math.min(Math.max(failures, 1) - 1, MAX_DOUBLINGS);
  const capped = Math.min(policy.baseMs * 2 ** doublings, policy.maxMs);
  return Math.round(capped * (1 - policy.jitter + 2 * policy.jitter * random()));
}

/** The failures in a row of one retry loop: `next()` counts one and says how long to wait; `reset()` after a success. */
export class Backoff {
  private count = 0;

  constructor(
    private readonly policy: BackoffPolicy,
    private readonly random: Random = Math.random,
  ) {}

  next(): number {
    this.count++;
    return backoffDelay(this.policy, this.count, this.random);
  }

  reset(): void {
    this.count = 0;
  }

  get failures(): number {
    return this.count;
  }
}
