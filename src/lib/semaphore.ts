// A counting semaphore: at most `limit` holders at once, the others wait in arrival order. A waiter
// whose signal aborts leaves the line without ever holding a permit.

export class Semaphore {
  private holders = 0;
  private readonly line: { grant: () => void }[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`a semaphore needs a limit of at least 1 (got ${limit})`);
  }

  /** Holders now. */
  get held(): number {
    return this.holders;
  }

  /** Waiters now. */
  get waiting(): number {
    return this.line.length;
  }

  /** Runs `fn` holding a permit; the permit is given back however `fn` ends. */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  private acquire(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.holders < this.limit) {
      this.take();
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          this.take();
          resolve();
        },
      };
      const onAbort = () => {
        const at = this.line.indexOf(waiter);
        if (at >= 0) this.line.splice(at, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.line.push(waiter);
    });
  }

  private take(): void {
    this.holders++;
  }

  private release(): void {
    this.holders--;
    this.line.shift()?.grant();
  }
}
