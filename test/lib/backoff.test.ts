// The one backoff rule: doubling from the first delay up to the cap, spread by the jitter either side.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from '../../src/lib/backoff.js';

test('the delay doubles per failure up to the cap, and jitter spreads it within the bounds', () => {
  const low = new Backoff({ initialMs: 500, maxMs: 60_000, random: () => 0 });
  const high = new Backoff({ initialMs: 500, maxMs: 60_000, random: () => 1 });
  const middle = new Backoff({ initialMs: 500, maxMs: 60_000, random: () => 0.5 });
  assert.deepEqual([1, 2, 3, 4].map((n) => middle.nextDelay(n)), [500, 1_000, 2_000, 4_000]);
  assert.equal(middle.nextDelay(8), 60_000, 'capped');
  assert.equal(middle.nextDelay(10_000), 60_000, 'a huge attempt count stays finite and capped');
  assert.equal(low.nextDelay(1), 400, '20 % below');
  assert.equal(high.nextDelay(1), 600, '20 % above');
  assert.equal(new Backoff({ initialMs: 500, maxMs: 500, jitter: 0, random: () => 1 }).nextDelay(3), 500);
});

test('delays of keys that failed together are spread apart', () => {
  const backoff = new Backoff({ initialMs: 1_000, maxMs: 60_000 });
  const delays = new Set(Array.from({ length: 50 }, () => backoff.nextDelay(3)));
  assert.ok(delays.size > 10, `50 keys retried after only ${delays.size} different delays`);
  for (const d of delays) assert.ok(d >= 3_200 && d <= 4_800, String(d));
});

test('bounds that make no sense are refused at construction', () => {
  assert.throws(() => new Backoff({ initialMs: 0, maxMs: 10 }), /initialMs/);
  assert.throws(() => new Backoff({ initialMs: 100, maxMs: 10 }), /maxMs/);
});
