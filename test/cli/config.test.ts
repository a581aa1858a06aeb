// The server's settings from flags and WSM_* variables: defaults, parsing, and errors that name the setting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, resolveServeConfig } from '../../src/cli/config.js';

test('WSM_IDEMPOTENCY_RETENTION_HOURS sets how long retries get the first answer, with a default', () => {
  assert.equal(resolveServeConfig({}, {}).idempotencyRetentionHours, 24);
  assert.equal(resolveServeConfig({}, { WSM_IDEMPOTENCY_RETENTION_HOURS: '48' }).idempotencyRetentionHours, 48);
  for (const bad of ['0', '-1', '2.5', 'lots']) {
    assert.throws(
      () => resolveServeConfig({}, { WSM_IDEMPOTENCY_RETENTION_HOURS: bad }),
      (err: Error) => err instanceof ConfigError && err.message.includes('WSM_IDEMPOTENCY_RETENTION_HOURS') && err.message.includes(`"${bad}"`),
    );
  }
});

test('WSM_EVENTS_* set the event streams\' buffer, streams per token and replay window, with defaults', () => {
  assert.deepEqual(resolveServeConfig({}, {}).events, { bufferBytes: 1_048_576, maxStreamsPerToken: 10, replayEvents: 1_000, replayBytes: 16_777_216 });
  const set = resolveServeConfig({}, { WSM_EVENTS_BUFFER_BYTES: '65536', WSM_EVENTS_MAX_STREAMS_PER_TOKEN: '2', WSM_EVENTS_REPLAY_EVENTS: '50', WSM_EVENTS_REPLAY_BYTES: '4096' });
  assert.deepEqual(set.events, { bufferBytes: 65_536, maxStreamsPerToken: 2, replayEvents: 50, replayBytes: 4096 });
  for (const [name, bad] of [['WSM_EVENTS_BUFFER_BYTES', '100'], ['WSM_EVENTS_MAX_STREAMS_PER_TOKEN', '0'], ['WSM_EVENTS_REPLAY_EVENTS', 'many'], ['WSM_EVENTS_REPLAY_BYTES', '-1']] as const) {
    assert.throws(
      () => resolveServeConfig({}, { [name]: bad }),
      (err: Error) => err instanceof ConfigError && err.message.includes(name) && err.message.includes(`"${bad}"`),
    );
  }
});

test('the default image is decided here: WSM_DEFAULT_IMAGE, else mageai/mageai:latest', () => {
  assert.equal(resolveServeConfig({}, {}).defaultImage, 'mageai/mageai:latest');
  assert.equal(resolveServeConfig({}, { WSM_DEFAULT_IMAGE: '' }).defaultImage, 'mageai/mageai:latest');
  assert.equal(resolveServeConfig({}, { WSM_DEFAULT_IMAGE: 'registry.local/mage:1' }).defaultImage, 'registry.local/mage:1');
});

test('WSM_RESTART_BACKOFF_* set the restart backoff (10 s to 5 min, forgiven after 10 min by default); a cap below the first wait is refused', () => {
  assert.deepEqual(resolveServeConfig({}, {}).restartBackoff, { initialSeconds: 10, maxSeconds: 300, resetSeconds: 600 });
  const set = resolveServeConfig({}, { WSM_RESTART_BACKOFF_INITIAL_SECONDS: '1', WSM_RESTART_BACKOFF_MAX_SECONDS: '4', WSM_RESTART_BACKOFF_RESET_SECONDS: '30' });
  assert.deepEqual(set.restartBackoff, { initialSeconds: 1, maxSeconds: 4, resetSeconds: 30 });
  for (const [env, named] of [
    [{ WSM_RESTART_BACKOFF_INITIAL_SECONDS: '0' }, 'WSM_RESTART_BACKOFF_INITIAL_SECONDS'],
    [{ WSM_RESTART_BACKOFF_MAX_SECONDS: 'soon' }, 'WSM_RESTART_BACKOFF_MAX_SECONDS'],
    [{ WSM_RESTART_BACKOFF_INITIAL_SECONDS: '60', WSM_RESTART_BACKOFF_MAX_SECONDS: '30' }, 'WSM_RESTART_BACKOFF_MAX_SECONDS'],
  ] as const) {
    assert.throws(() => resolveServeConfig({}, env), (err: Error) => err instanceof ConfigError && err.message.includes(named));
  }
});

test('WSM_HEAP_GROWING_PERCENT bounds how far the heap grows before a full collection: 50 by default, 0 leaves it to V8', () => {
  assert.equal(resolveServeConfig({}, {}).heapGrowingPercent, 50);
  assert.equal(resolveServeConfig({}, { WSM_HEAP_GROWING_PERCENT: '0' }).heapGrowingPercent, 0);
  assert.equal(resolveServeConfig({}, { WSM_HEAP_GROWING_PERCENT: '120' }).heapGrowingPercent, 120);
  for (const bad of ['-1', '301', '1.5', 'half']) {
    assert.throws(
      () => resolveServeConfig({}, { WSM_HEAP_GROWING_PERCENT: bad }),
      (err: Error) => err instanceof ConfigError && err.message.includes('WSM_HEAP_GROWING_PERCENT') && err.message.includes(`"${bad}"`),
    );
  }
});
