// A slice of one turn of the event loop: work that runs without giving the loop a turn (synchronous
// SQLite, a runtime with nothing to do) asks it whether to go on or to wait for a later turn, so the
// loop reads its sockets and runs its timers again soon. Each user keeps its own slice.

export class LoopSlice {
  /** When this turn's run of work began; undefined once the loop has had a turn since. */
  private start: number | undefined;

  constructor(
    private readonly ms: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Whether this turn has time left, starting the slice when this is the turn's first call. */
  within(): boolean {
    const now = this.now();
    if (this.start === undefined) {
      this.start = now;
      setImmediate(() => (this.start = undefined));
      return true;
    }
    return now - this.start <= this.ms;
  }
}
