// The server's settings from flags and WSM_* variables: defaults, parsing, and errors that name the setting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, resolveServeConfig } from '../../src/cli/config.js';
import { DEFAULT_WORKSPACE_CACHE_SIZE } from '../../src/store/kysely-store.js';

test('WSM_WORKSPACE_CACHE sets how many workspaces the store keeps decoded, with a default', () => {
  assert.equal(resolveServeConfig({}, {}).workspaceCacheSize, DEFAULT_WORKSPACE_CACHE_SIZE);
  assert.equal(resolveServeConfig({}, { WSM_WORKSPACE_CACHE: '5000' }).workspaceCacheSize, 5000);
  for (const bad of ['0', '-1', '2.5', 'lots']) {
    assert.throws(
      () => resolveServeConfig({}, { WSM_WORKSPACE_CACHE: bad }),
      (err: Error) => err instanceof ConfigError && err.message.includes('WSM_WORKSPACE_CACHE') && err.message.includes(`"${bad}"`),
    );
  }
});

test('the default image is decided here: WSM_DEFAULT_IMAGE, else mageai/mageai:latest', () => {
  assert.equal(resolveServeConfig({}, {}).defaultImage, 'mageai/mageai:latest');
  assert.equal(resolveServeConfig({}, { WSM_DEFAULT_IMAGE: '' }).defaultImage, 'mageai/mageai:latest');
  assert.equal(resolveServeConfig({}, { WSM_DEFAULT_IMAGE: 'registry.local/mage:1' }).defaultImage, 'registry.local/mage:1');
});
