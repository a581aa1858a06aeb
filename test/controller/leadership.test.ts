// Leader election over a lease the test controls: a term's duties start when the lease is granted,
// stop when another holds it, when the term can no longer be renewed (before the lease could have
// passed to another), and when the database denies the term at a fencing check; stop() hands the
// lease back. The real lease on PostgreSQL is exercised by test/e2e/ha/replicas.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Leadership, type LeaderTerm } from '../../src/controller/leadership.js';
import type { LeaseHolder } from '../../src/store/leader-lease.js';
import { eventually } from '../support/server.js';

const quiet = { info() {}, warn() {}, error() {}, debug() {} } as never;

/** A lease whose answers the test sets: 'grant' (in `term`), 'other' (held elsewhere) or 'fail'. */
class ScriptedLease implements LeaseHolder {
  answer: 'grant' | 'other' | 'fail' = 'grant';
  term = 1;
  holdsAnswer: boolean | 'fail' = true;
  holdsAsked = 0;
  released: number[] = [];
  /** performance.now() when the last request that granted the lease was sent. */
  lastGrantSent = 0;
  async acquireOrRenew(): Promise<{ term: number } | undefined> {
    if (this.answer === 'fail') throw new Error('database unreachable');
    if (this.answer === 'grant') this.lastGrantSent = performance.now();
    return this.answer === 'grant' ? { term: this.term } : undefined;
  }
  async holds(): Promise<boolean> {
    this.holdsAsked += 1;
    if (this.holdsAnswer === 'fail') throw new Error('database unreachable');
    return this.holdsAnswer;
  }
  async release(_holder: string, term: number): Promise<void> {
    this.released.push(term);
  }
  async current(): Promise<undefined> {
    return undefined;
  }
  async close(): Promise<void> {}
}

function recorder() {
  const log: string[] = [];
  const terms: LeaderTerm[] = [];
  const duties = async (term: LeaderTerm) => {
    log.push(`start ${term.term}`);
    terms.push(term);
    return async () => {
      log.push(`stop ${term.term}`);
    };
  };
  return { log, terms, duties };
}

const timings = { leaseMs: 600, renewEveryMs: 100, marginMs: 150 };

describe('leadership', () => {
  test('duties start with the lease and stop when another replica holds it', async () => {
    const lease = new ScriptedLease();
    const { log, terms, duties } = recorder();
    const leadership = new Leadership(lease, timings, duties, quiet);
    await leadership.start();
    await leadership.settled();
    assert.deepEqual(log, ['start 1']);
    assert.equal(leadership.leading, true);
    assert.equal(leadership.term, 1);
    lease.answer = 'other';
    await eventually(async () => log.includes('stop 1'), 5_000, 'the duties to stop');
    assert.equal(leadership.leading, false);
    assert.equal(terms[0]!.current, false);
    // Taken back later: a new term, new duties.
    lease.answer = 'grant';
    lease.term = 3;
    await eventually(async () => log.includes('start 3'), 5_000, 'the next term');
    await leadership.stop();
    assert.deepEqual(log, ['start 1', 'stop 1', 'start 3', 'stop 3']);
    assert.deepEqual(lease.released, [3]);
  });

  test('a leader that cannot renew stops acting before its lease could have passed to another', async () => {
    const lease = new ScriptedLease();
    const { log, terms, duties } = recorder();
    const leadership = new Leadership(lease, timings, duties, quiet);
    await leadership.start();
    await leadership.settled();
    lease.answer = 'fail';
    // While the term says it may act, the lease as the database counts it (from after the last granting
    // request was sent) has more than the margin left; sampled until the term ends.
    for (;;) {
      const now = performance.now();
      if (!terms[0]!.current) break;
      assert.ok(now < lease.lastGrantSent + timings.leaseMs - timings.marginMs, 'acting inside the safety margin');
      await new Promise((resolve) => setImmediate(resolve));
    }
    await eventually(async () => log.includes('stop 1'), 5_000, 'the duties to stop');
    await leadership.stop();
    assert.deepEqual(lease.released, []);
  });

  test('a fencing check the database denies ends the term', async () => {
    const lease = new ScriptedLease();
    const { log, terms, duties } = recorder();
    const leadership = new Leadership(lease, { ...timings, renewEveryMs: 60_000 }, duties, quiet);
    await leadership.start();
    await leadership.settled();
    assert.equal(await terms[0]!.confirm(), true);
    lease.holdsAnswer = false;
    assert.equal(await terms[0]!.confirm(), false);
    await leadership.settled();
    assert.deepEqual(log, ['start 1', 'stop 1']);
    assert.equal(terms[0]!.current, false);
    await leadership.stop();
  });

  test('a fencing check the database does not answer is asked again: true once it answers, false only once the term ends', async () => {
    const lease = new ScriptedLease();
    const { log, terms, duties } = recorder();
    const leadership = new Leadership(lease, timings, duties, quiet);
    await leadership.start();
    await leadership.settled();
    // The check fails while renewals go through: the term goes on, and so must the fenced call.
    lease.holdsAnswer = 'fail';
    const confirmed = terms[0]!.confirm();
    await eventually(async () => lease.holdsAsked >= 3, 5_000, 'the check to be asked again');
    lease.holdsAnswer = true;
    assert.equal(await confirmed, true);
    assert.deepEqual(log, ['start 1']);

    // Neither the check nor the renewals are answered: false when the term ends by the local clock.
    lease.holdsAnswer = 'fail';
    lease.answer = 'fail';
    assert.equal(await terms[0]!.confirm(), false);
    assert.equal(terms[0]!.current, false);
    await eventually(async () => log.includes('stop 1'), 5_000, 'the duties to stop');
    await leadership.stop();
  });

  test('duties that fail to start are started again at the next renewal, not left undone for the term', async () => {
    const lease = new ScriptedLease();
    const log: string[] = [];
    let failures = 2;
    const duties = async (term: LeaderTerm) => {
      if (failures-- > 0) {
        log.push(`failed ${term.term}`);
        throw new Error('the database went away during the resync');
      }
      log.push(`start ${term.term}`);
      return async () => {
        log.push(`stop ${term.term}`);
      };
    };
    const leadership = new Leadership(lease, timings, duties, quiet);
    await leadership.start();
    await leadership.settled();
    assert.equal(leadership.leading, false, 'a term without duties is not led');
    await eventually(async () => log.includes('start 1'), 5_000, 'the duties to start at a later renewal');
    assert.deepEqual(log, ['failed 1', 'failed 1', 'start 1']);
    assert.equal(leadership.leading, true);
    await leadership.stop();
    assert.deepEqual(log, ['failed 1', 'failed 1', 'start 1', 'stop 1']);
  });
});
