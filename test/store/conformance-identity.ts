// Conformance for what makes a workspace itself: its uid, what is granted on it going with it, and the
// installation's id. Registered inside the suite of conformance.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WithStore } from './conformance.js';
import { token, workspace } from './fixtures.js';

export function identityConformance(withStore: WithStore): void {
  test('deleting a workspace removes its grants and revokes its scoped tokens, and nothing of other workspaces', () =>
    withStore(async (store) => {
      await store.insertWorkspace(workspace('dk1'));
      await store.insertWorkspace(workspace('other'));
      await store.insertToken(token('scoped', { workspace: 'dk1' }));
      await store.insertToken(token('scoped-other', { workspace: 'other' }));
      await store.insertToken(token('for-later', { workspace: 'not-yet' }));
      await store.insertToken(token('granted', { role: 'viewer' }));
      await store.putGrant({ token_id: 'granted', workspace: 'dk1', role: 'editor' });
      await store.putGrant({ token_id: 'granted', workspace: 'other', role: 'editor' });

      await store.deleteWorkspace('dk1');
      // A name that has no workspace: nothing is revoked (a token may be made before its workspace).
      await store.deleteWorkspace('not-yet');

      assert.deepEqual(await store.listGrants('granted'), [{ token_id: 'granted', workspace: 'other', role: 'editor' }]);
      assert.ok((await store.findTokenByHash('hash-of-scoped'))?.revoked_at, 'the token scoped to dk1 is revoked');
      for (const kept of ['scoped-other', 'for-later', 'granted']) {
        assert.equal((await store.findTokenByHash(`hash-of-${kept}`))?.revoked_at, undefined, kept);
      }
      // The name taken again is another workspace: nothing of the first one comes back.
      await store.insertWorkspace(workspace('dk1', { uid: 'uid-dk1-again' }));
      assert.deepEqual(await store.listGrants('granted'), [{ token_id: 'granted', workspace: 'other', role: 'editor' }]);
      assert.ok((await store.findTokenByHash('hash-of-scoped'))?.revoked_at);
    }));

  test('a delete rolled back keeps the grants and tokens as well as the row', () =>
    withStore(async (store) => {
      await store.insertWorkspace(workspace('dk2'));
      await store.insertToken(token('scoped', { workspace: 'dk2' }));
      await store.insertToken(token('granted', { role: 'viewer' }));
      await store.putGrant({ token_id: 'granted', workspace: 'dk2', role: 'editor' });
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.deleteWorkspace('dk2');
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.equal((await store.getWorkspace('dk2'))?.name, 'dk2');
      assert.deepEqual(await store.listGrants('granted'), [{ token_id: 'granted', workspace: 'dk2', role: 'editor' }]);
      assert.equal((await store.findTokenByHash('hash-of-scoped'))?.revoked_at, undefined);
    }));

  test('a record of an earlier workspace of the same name never overwrites the new one', () =>
    withStore(async (store) => {
      const first = workspace('again', { uid: 'uid-first' });
      await store.insertWorkspace(first);
      await store.deleteWorkspace('again');
      const second = workspace('again', { uid: 'uid-second' });
      await store.insertWorkspace(second);
      // The same resource_version: only the uid tells the two apart.
      const stale = { ...first, desired_state: 'stopped' as const, resource_version: 2 };
      assert.equal(await store.replaceWorkspace(stale, 1), false);
      assert.deepEqual(await store.getWorkspace('again'), second);
      assert.equal(await store.replaceWorkspace({ ...second, desired_state: 'stopped', resource_version: 2 }, 1), true);
      assert.equal((await store.getWorkspace('again'))?.desired_state, 'stopped');
    }));

  test('the installation id is the first one proposed, for every later caller and handle', () =>
    withStore(async (store, harness) => {
      assert.equal(await store.installationId('aaa111'), 'aaa111');
      assert.equal(await store.installationId('bbb222'), 'aaa111');
      const second = await harness.open();
      try {
        assert.equal(await second.installationId('ccc333'), 'aaa111');
      } finally {
        await second.close();
      }
      // It is kept apart from the cluster settings.
      assert.deepEqual(await store.getClusterSettings(), { env: [], inherit_patterns: [] });
    }));
}
