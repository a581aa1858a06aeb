// The one backoff of wsm's retry loops: doubling from the base, capped, jittered within its fraction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Backoff, backoffDelay } from '../../src/lib/backoff.js';

const policy = fc.record({
  baseMs: fc.integer({ min: 1, max: 10_000 }),
  maxMs: fc.integer({ min: 1, max: 600_000 }),
  jitter: fc.double({ min: 0, max: 0.9, noNaN: true }),
});
/** [0, 1), as Math.random gives. */
const unit = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

test('property: the n-th delay lies within base·2^(n−1)·(1−j) and cap·(1+j), and within the jitter of its capped value', () => {
  fc.assert(
    fc.property(policy, fc.integer({ min: 1, max: 80 }), unit, (p, n, r) => {
      const delay = backoffDelay(p, n, () => r);
      const capped = Math.min(p.baseMs * 2 ** (n - 1), p.maxMs);
      assert.ok(delay >= Math.floor(capped * (1 - p.jitter)), `${delay} below ${capped}·(1−${p.jitter})`);
      assert.ok(delay <= Math.ceil(p.maxMs * (1 + p.jitter)), `${delay} above the cap ${p.maxMs}·(1+${p.jitter})`);
      assert.ok(delay <= Math.ceil(capped * (1 + p.jitter)), `${delay} above ${capped}·(1+${p.jitter})`);
      assert.ok(Number.isInteger(delay));
    }),
    { numRuns: 2000 },
  );
});

test('without jitter the delays double from the base and stop at the cap', () => {
  const p = { baseMs: 500, maxMs: 30_000, jitter: 0 };
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 1000].map((n) => backoffDelay(p, n)), [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
});

test('the jitter spans its whole range: the lowest and highest random numbers give base·(1∓j)', () => {
  const p = { baseMs: 1000, maxMs: 60_000, jitter: 0.2 };
  assert.equal(backoffDelay(p, 1, () => 0), 800);
  assert.equal(backoffDelay(p, 1, () => 0.5), 1000);
  assert.equal(backoffDelay(p, 1, () => 0.999999), 1200);
});

test('Backoff counts failures in a row; reset starts again from the base', () => {
  const backoff = new Backoff({ baseMs: 10, maxMs: 35, jitter: 0.2 }, () => 0.5);
  assert.deepEqual([backoff.next(), backoff.next(), backoff.next(), backoff.next()], [10, 20, 35, 35]);
  assert.equal(backoff.failures, 4);
  backoff.reset();
  assert.equal(backoff.failures, 0);
  assert.equal(backoff.next(), 10);
});

test('with the default randomness, delays of keys that failed together are spread apart within the jitter', () => {
  const p = { baseMs: 1000, maxMs: 60_000, jitter: 0.2 };
  const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(p, 3)));
  assert.ok(delays.size > 10, `50 keys retried after only ${delays.size} different delays`);
  for (const d of delays) assert.ok(d >= 3200 && d <= 4800, String(d));
});
