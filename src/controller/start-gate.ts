// The limit on instances started at once (WSM_MAX_CONCURRENT_STARTS). After a host reboot every
// desired-running workspace needs a start in the same minute: the engine gets them a few at a time.
// What runs is counted apart from the permits, so the gauges show the starts really under way.
import { Semaphore } from '../lib/semaphore.js';

/** Starts under way and waiting for their turn (metrics, and the proof that the limit holds). */
export interface StartStats {
  starting: number;
  waiting: number;
  /** The most starts there ever were at once since this gate was made. */
  peak: number;
  limit: number;
}

export class StartGate {
  private readonly permits: Semaphore;
  private underWay = 0;
  private highest = 0;

  constructor(limit: number) {
    this.permits = new Semaphore(limit);
  }

  /** Runs a start once fewer than the limit are under way; a signal aborted while it waits ends the wait. */
  run<T>(start: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.permits.run(() => this.counted(start), signal);
  }

  stats(): StartStats {
    return { starting: this.underWay, waiting: this.permits.waiting, peak: this.highest, limit: this.permits.limit };
  }

  private async counted<T>(start: () => Promise<T>): Promise<T> {
    this.underWay++;
    if (this.underWay > this.highest) this.highest = this.underWay;
    try {
      return await start();
    } finally {
      this.underWay--;
    }
  }
}
