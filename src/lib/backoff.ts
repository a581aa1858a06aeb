// Exponential backoff with jitter: the one rule for "how long until the next try" after failures.
// Jitter keeps many keys that failed together (an engine that went away) from retrying in lockstep.

export interface BackoffOptions {
  /** The delay after the first failure. */
  initialMs: number;
  /** No delay is longer than this (before jitter). */
  maxMs: number;
  /** Each delay is spread by up to this fraction either side (0.2: 80 % to 120 %). */
  jitter?: number;
  /** Replaceable in tests; Math.random by default. */
  random?: () => number;
}

export class Backoff {
  private readonly jitter: number;
  private readonly random: () => number;

  constructor(private readonly options: BackoffOptions) {
    if (!(options.initialMs > 0) || !(options.maxMs >= options.initialMs)) {
      throw new Error(`backoff needs 0 < initialMs <= maxMs (got ${options.initialMs} and ${options.maxMs})`);
    }
    this.jitter = options.jitter ?? 0.2;
    this.random = options.random ?? Math.random;
  }

  /** The delay before the next try of something that has failed `attempt` times in a row (1 = once). */
  nextDelay(attempt: number): number {
    // The exponent is capped so that 2 ** n stays finite for any attempt count.
    const doubled = this.options.initialMs * 2 ** Math.min(Math.max(attempt, 1) - 1, 30);
    const capped = Math.min(doubled, this.options.maxMs);
    return Math.round(capped * (1 - this.jitter + this.random() * 2 * this.jitter));
  }
}
