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
