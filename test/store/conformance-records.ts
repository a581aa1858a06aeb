// Conformance for everything beside workspaces: operations, tokens and grants, audit, settings,
// idempotency keys. Registered inside the suite of conformance.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WsmError } from '../../src/core/errors.js';
import type { WithStore } from './conformance.js';
import { at, operation, token, workspace } from './fixtures.js';

export function operationsAndAccessConformance(withStore: WithStore): void {
  test('operations read back, and a patch changes only the fields it names', () =>
    withStore(async (store) => {
      const op = operation('op-1', 'w1', { request: { workspace: { action: 'patch', container_config: 'a: 1' } } });
      await store.insertOperation(op);
      assert.deepEqual(await store.getOperation('op-1'), op);
      await assert.rejects(store.insertOperation(op), (err: unknown) => err instanceof WsmError && err.type === 'conflict');

      await store.updateOperation('op-1', { state: 'running', started_at: at(1), attempts: 1 });
      await store.updateOperation('op-1', { error: 'image pull failed', attempts: 2 });
      assert.deepEqual(await store.getOperation('op-1'), {
        ...op,
        state: 'running',
        started_at: at(1),
        attempts: 2,
        error: 'image pull failed',
      });
      await store.updateOperation('op-1', {
        state: 'succeeded',
        error: null,
        details: { post_start: { exit_code: 0, output: 'ok' } },
        finished_at: at(9),
      });
      assert.deepEqual(await store.getOperation('op-1'), {
        ...op,
        state: 'succeeded',
        started_at: at(1),
        attempts: 2,
        details: { post_start: { exit_code: 0, output: 'ok' } },
        finished_at: at(9),
      });
      assert.equal(await store.getOperation('op-missing'), undefined);
    }));

  test('listWorkspaceOperations is by uid, newest first; listOpenOperations is pending and running, oldest first', () =>
    withStore(async (store) => {
      await store.insertOperation(operation('a', 'w1', { created_at: at(3), state: 'succeeded' }));
      await store.insertOperation(operation('b', 'w1', { created_at: at(1), state: 'running' }));
      await store.insertOperation(operation('c', 'w2', { created_at: at(2), state: 'pending' }));
      await store.insertOperation(operation('d', 'w1', { created_at: at(4), state: 'pending' }));
      await store.insertOperation(operation('e', 'w2', { created_at: at(0), state: 'failed' }));
      const ids = (ops: { id: string }[]) => ops.map((o) => o.id);
      // An earlier workspace of the name w1: its operation is not one of this w1's.
      await store.insertOperation(operation('f', 'w1', { created_at: at(5), state: 'succeeded', workspace_uid: 'uid-of-an-earlier-w1' }));
      assert.deepEqual(ids(await store.listWorkspaceOperations('uid-w1', 10)), ['d', 'a', 'b']);
      assert.deepEqual(ids(await store.listWorkspaceOperations('uid-w1', 2)), ['d', 'a']);
      assert.deepEqual(ids(await store.listWorkspaceOperations('uid-of-an-earlier-w1', 10)), ['f']);
      assert.deepEqual(ids(await store.listWorkspaceOperations('uid-nobody', 10)), []);
      assert.deepEqual(ids(await store.listOpenOperations()), ['b', 'c', 'd']);
      assert.deepEqual(ids(await store.listOpenOperations('w1')), ['b', 'd']);
      await store.updateOperation('b', { state: 'failed' });
      assert.deepEqual(ids(await store.listOpenOperations()), ['c', 'd']);
    }));

  test('getWorkspaceAndOpenOperations gives the workspace with its open operations, oldest first', () =>
    withStore(async (store) => {
      const ws = workspace('w1');
      await store.insertWorkspace(ws);
      await store.insertOperation(operation('a', 'w1', { created_at: at(3), state: 'succeeded' }));
      await store.insertOperation(operation('b', 'w1', { created_at: at(2), state: 'running' }));
      await store.insertOperation(operation('c', 'w1', { created_at: at(1), state: 'pending' }));
      await store.insertOperation(operation('d', 'w2', { created_at: at(0), state: 'pending' }));
      const both = await store.getWorkspaceAndOpenOperations('w1');
      assert.deepEqual(both.workspace, await store.getWorkspace('w1'));
      assert.equal(both.workspace?.name, 'w1');
      assert.deepEqual(both.operations.map((o) => o.id), ['c', 'b']);
      assert.deepEqual(both.operations[0], await store.getOperation('c'));
      assert.deepEqual(await store.getWorkspaceAndOpenOperations('w2'), { workspace: undefined, operations: [await store.getOperation('d')] });
    }));

  test('tokens are found by hash, listed, and revoked once', () =>
    withStore(async (store) => {
      const owner = token('t-owner', { role: 'owner', created_at: at(1) });
      const scoped = token('t-scoped', { role: 'viewer', workspace: 'w1', expires_at: at(100), created_at: at(2) });
      await store.insertToken(scoped);
      await store.insertToken(owner);
      assert.deepEqual(await store.findTokenByHash('hash-of-t-scoped'), scoped);
      assert.equal(await store.findTokenByHash('no-such-hash'), undefined);
      await assert.rejects(
        store.insertToken(token('t-other', { hash: owner.hash })),
        (err: unknown) => err instanceof WsmError && err.type === 'conflict',
      );
      assert.deepEqual(await store.listTokens(), [owner, scoped]);

      assert.equal(await store.revokeToken('t-owner', at(50)), true);
      assert.equal(await store.revokeToken('t-owner', at(60)), true);
      assert.equal((await store.findTokenByHash(owner.hash))?.revoked_at, at(50));
      assert.equal(await store.revokeToken('t-missing', at(50)), false);
    }));

  test('grants are per token and workspace; putting one again changes its role', () =>
    withStore(async (store) => {
      await store.insertToken(token('t1'));
      await store.insertToken(token('t2'));
      await store.putGrant({ token_id: 't1', workspace: 'w2', role: 'viewer' });
      await store.putGrant({ token_id: 't1', workspace: 'w1', role: 'viewer' });
      await store.putGrant({ token_id: 't2', workspace: 'w1', role: 'owner' });
      await store.putGrant({ token_id: 't1', workspace: 'w2', role: 'editor' });
      assert.deepEqual(await store.listGrants('t1'), [
        { token_id: 't1', workspace: 'w1', role: 'viewer' },
        { token_id: 't1', workspace: 'w2', role: 'editor' },
      ]);
      await store.deleteGrant('t1', 'w1');
      assert.deepEqual(await store.listGrants('t1'), [{ token_id: 't1', workspace: 'w2', role: 'editor' }]);
      assert.deepEqual(await store.listGrants('t2'), [{ token_id: 't2', workspace: 'w1', role: 'owner' }]);
      // A grant must belong to a token that exists.
      await assert.rejects(store.putGrant({ token_id: 'no-token', workspace: 'w1', role: 'viewer' }));
      assert.deepEqual(await store.listGrants('no-token'), []);
    }));

  test('audit events get increasing ids and list newest first, optionally for one workspace', () =>
    withStore(async (store) => {
      await store.appendAudit({ at: at(1), actor: 'a', action: 'create', workspace: 'w1', generation_after: 1, result: 'ok' });
      await store.appendAudit({ at: at(2), actor: 'b', action: 'token.create', result: 'ok', request_id: 'req-2' });
      await store.appendAudit({
        at: at(3),
        actor: 'a',
        action: 'patch',
        workspace: 'w1',
        generation_before: 1,
        generation_after: 2,
        result: 'error',
        detail: 'validation failed',
      });
      const all = await store.listAudit({ limit: 10 });
      assert.deepEqual(all.map((e) => e.action), ['patch', 'token.create', 'create']);
      const ids = all.map((e) => e.id ?? 0);
      assert.ok(ids[0]! > ids[1]! && ids[1]! > ids[2]!, `ids should decrease: ${ids.join(',')}`);
      assert.deepEqual(all[0], {
        id: ids[0],
        at: at(3),
        actor: 'a',
        action: 'patch',
        workspace: 'w1',
        generation_before: 1,
        generation_after: 2,
        result: 'error',
        detail: 'validation failed',
      });
      assert.deepEqual(all[1], { id: ids[1], at: at(2), actor: 'b', action: 'token.create', result: 'ok', request_id: 'req-2' });
      assert.deepEqual((await store.listAudit({ workspace: 'w1', limit: 1 })).map((e) => e.action), ['patch']);
      assert.deepEqual((await store.listAudit({ workspace: 'w9', limit: 10 })).length, 0);
    }));

  test('cluster settings default to empty and are replaced whole by put', () =>
    withStore(async (store) => {
      assert.deepEqual(await store.getClusterSettings(), { env: [], inherit_patterns: [] });
      const first = { env: [{ name: 'REGION', value: 'eu' }], inherit_patterns: ['REG*'], default_image: 'mage:1' };
      await store.putClusterSettings(first);
      assert.deepEqual(await store.getClusterSettings(), first);
      const second = { env: [], inherit_patterns: ['/^X_/'] };
      await store.putClusterSettings(second);
      assert.deepEqual(await store.getClusterSettings(), second);
    }));

  test('cluster settings read back as committed: after a put in a transaction, not after a rolled-back one', () =>
    withStore(async (store) => {
      const first = { env: [{ name: 'A', value: '1' }], inherit_patterns: [] };
      await store.putClusterSettings(first);
      const read = await store.getClusterSettings();
      // Handed out frozen (shared) or as a copy of its own: either way the next read is unchanged.
      try {
        read.env.push({ name: 'CHANGED', value: 'by the caller' });
      } catch (err) {
        assert.ok(err instanceof TypeError && Object.isFrozen(read.env), String(err));
      }
      assert.deepEqual(await store.getClusterSettings(), first);
      const second = { env: [], inherit_patterns: ['B*'] };
      await store.transaction((tx) => tx.putClusterSettings(second));
      assert.deepEqual(await store.getClusterSettings(), second);
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.putClusterSettings(first);
          throw new Error('roll back');
        }),
        /roll back/,
      );
      assert.deepEqual(await store.getClusterSettings(), second);
    }));

  test('idempotency keys are per actor, and the first stored response is kept', () =>
    withStore(async (store) => {
      assert.equal(await store.getIdempotency('k1', 'alice'), undefined);
      const first = {
        key: 'k1',
        actor: 'alice',
        fingerprint: 'fp-1',
        response: { status: 201, body: { workspace: { name: 'w1' } }, headers: { etag: '"1"' } },
        created_at: at(1),
      };
      await store.putIdempotency(first);
      await store.putIdempotency({ ...first, fingerprint: 'fp-2', response: { status: 500, body: null } });
      assert.deepEqual(await store.getIdempotency('k1', 'alice'), first);
      assert.equal(await store.getIdempotency('k1', 'bob'), undefined);
      const bob = { ...first, actor: 'bob', fingerprint: 'fp-b', response: { status: 200, body: [] } };
      await store.putIdempotency(bob);
      assert.deepEqual(await store.getIdempotency('k1', 'bob'), bob);
    }));

  test('idempotency keys stored before a time are removed, later ones kept', () =>
    withStore(async (store) => {
      const key = (k: string, seconds: number) => ({ key: k, actor: 'alice', fingerprint: 'f', response: { status: 200, body: {} }, created_at: at(seconds) });
      await store.putIdempotency(key('old', 10));
      await store.putIdempotency(key('edge', 20));
      await store.putIdempotency(key('new', 30));
      assert.equal(await store.deleteIdempotencyBefore(at(20)), 1);
      assert.equal(await store.getIdempotency('old', 'alice'), undefined);
      assert.equal((await store.getIdempotency('edge', 'alice'))?.key, 'edge');
      assert.equal((await store.getIdempotency('new', 'alice'))?.key, 'new');
      assert.equal(await store.deleteIdempotencyBefore(at(20)), 0);
    }));

  test('a claimed idempotency key is settled with its answer, or removed only as claimed', () =>
    withStore(async (store) => {
      const claim = { key: 'c1', actor: 'alice', fingerprint: 'f', response: { status: 0, body: { claim: 'n1' } }, created_at: at(5) };
      await store.putIdempotency(claim);
      await store.settleIdempotency('c1', 'alice', { status: 200, body: { ok: true }, headers: { etag: '"2"' } });
      assert.deepEqual((await store.getIdempotency('c1', 'alice'))?.response, { status: 200, body: { ok: true }, headers: { etag: '"2"' } });
      // A delete names the claim it means: a newer claim under the same key is left alone.
      await store.deleteIdempotency('c1', 'alice', at(6));
      assert.equal((await store.getIdempotency('c1', 'alice'))?.key, 'c1');
      await store.deleteIdempotency('c1', 'alice', at(5));
      assert.equal(await store.getIdempotency('c1', 'alice'), undefined);
    }));

  test('records keep their shape through a transaction too', () =>
    withStore(async (store) => {
      const ws = workspace('txw');
      await store.transaction(async (tx) => {
        await tx.insertWorkspace(ws);
        await tx.insertToken(token('tt'));
        await tx.putGrant({ token_id: 'tt', workspace: 'txw', role: 'editor' });
        await tx.appendAudit({ at: at(1), actor: 'x', action: 'create', workspace: 'txw', result: 'ok' });
        await tx.putIdempotency({ key: 'k', actor: 'x', fingerprint: 'f', response: { status: 201, body: {} }, created_at: at(1) });
        await tx.putClusterSettings({ env: [], inherit_patterns: ['A'] });
        assert.deepEqual(await tx.getWorkspace('txw'), ws);
      });
      assert.deepEqual(await store.getWorkspace('txw'), ws);
      assert.deepEqual(await store.listGrants('tt'), [{ token_id: 'tt', workspace: 'txw', role: 'editor' }]);
      assert.equal((await store.listAudit({ workspace: 'txw', limit: 5 })).length, 1);
      assert.equal((await store.getIdempotency('k', 'x'))?.fingerprint, 'f');
      assert.deepEqual((await store.getClusterSettings()).inherit_patterns, ['A']);
    }));
}
