// Idempotency keys are removed once past their retention: at start-up and then on a timer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStore } from '../../src/store/index.js';
import { startIdempotencyCleanup } from '../../src/server/idempotency.js';

const quiet = { info() {}, warn() {} };

test('keys older than the retention are removed at start and on every interval; newer ones stay', async () => {
  const store = await openStore({ sqlitePath: ':memory:' });
  const key = (k: string, ageMs: number) => ({ key: k, actor: 'a', fingerprint: 'f', response: { status: 200, body: {} }, created_at: new Date(Date.now() - ageMs).toISOString() });
  try {
    await store.putIdempotency(key('two-hours', 2 * 3_600_000));
    await store.putIdempotency(key('fresh', 0));
    const stop = startIdempotencyCleanup(store, { retentionMs: 3_600_000, intervalMs: 50, logger: quiet });
    try {
      for (let i = 0; i < 100 && (await store.getIdempotency('two-hours', 'a')); i++) await sleep(10);
      assert.equal(await store.getIdempotency('two-hours', 'a'), undefined);
      assert.equal((await store.getIdempotency('fresh', 'a'))?.key, 'fresh');
      // Added after the first pass: the timer removes it.
      await store.putIdempotency(key('late', 3 * 3_600_000));
      for (let i = 0; i < 100 && (await store.getIdempotency('late', 'a')); i++) await sleep(10);
      assert.equal(await store.getIdempotency('late', 'a'), undefined);
      assert.equal((await store.getIdempotency('fresh', 'a'))?.key, 'fresh');
    } finally {
      stop();
    }
  } finally {
    await store.close();
  }
});
