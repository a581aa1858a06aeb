// --installation-id / WSM_INSTALLATION_ID: optional, and a label value on Docker and Kubernetes alike.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, resolveServeConfig } from '../../src/cli/config.js';

test('the installation id comes from the flag, else WSM_INSTALLATION_ID, else the store', () => {
  assert.equal(resolveServeConfig({}, {}).installationId, undefined);
  assert.equal(resolveServeConfig({}, { WSM_INSTALLATION_ID: 'team-a' }).installationId, 'team-a');
  assert.equal(resolveServeConfig({ installationId: 'flagged-1' }, { WSM_INSTALLATION_ID: 'team-a' }).installationId, 'flagged-1');
  for (const bad of ['Team-A', '-a', 'a-', 'a_b', 'a'.repeat(64), 'a b']) {
    assert.throws(
      () => resolveServeConfig({}, { WSM_INSTALLATION_ID: bad }),
      (err: Error) => err instanceof ConfigError && err.message.includes('WSM_INSTALLATION_ID') && err.message.includes(`"${bad}"`),
    );
  }
});
