// Bounds how long one turn of the event loop spends on requests, so that the loop reads its sockets
// again soon. Node reads every socket that is ready in one go, and each request read runs through its
// handler before the next is read: under load a turn served a whole round of connections (50 list pages,
// ~12 ms), and a request that arrived just after the turn began waited for all of it and then for the
// round after, as the sockets are read only between turns (its round trip took twice the others').
// Past the budget, requests wait their turn in arrival order, a later turn each, behind those already
// waiting; with work of its own bounded the same way (the controller's queue), a turn stays short.

import { LoopSlice } from '../controller/loop-slice.js';

/**
 * How long requests may run one after another before the loop reads its sockets again. Longer than
 * the controller's slice: a PUT's own part is short (its work is the reconcile), and with 1 ms PUTs
 * cost ~10 % more CPU, likely as their transactions, spread over more turns, shared fewer commits
 * (GETs were best at 1 ms, and nearly as good at 3).
 */
export const REQUEST_SLICE_MS = 3;

export class TurnBudget {
  private readonly slice: LoopSlice;
  /** Requests put off to a later turn, in arrival order: newcomers go behind them. */
  private readonly waiting: (() => void)[] = [];

  constructor(sliceMs = REQUEST_SLICE_MS, now?: () => number) {
    this.slice = new LoopSlice(sliceMs, now);
  }

  /** Runs `start` now, or in a later turn when this one has had its share (always after those put off before). */
  admit(start: () => void): void {
    if (this.waiting.length === 0 && this.slice.within()) {
      start();
      return;
    }
    this.waiting.push(start);
    setImmediate(this.runNext);
  }

  /**
   * One callback per waiting request, each its own task, so that what a request started (its handler
   * runs on in promise jobs) is done before the next one's budget check. Each takes the oldest waiting
   * request, not its own: one put off again must not fall behind newcomers.
   */
  private readonly runNext = (): void => {
    if (!this.slice.within()) {
      setImmediate(this.runNext);
      return;
    }
    this.waiting.shift()?.();
  };
}
