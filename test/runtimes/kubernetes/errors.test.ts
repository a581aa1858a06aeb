import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PermanentRuntimeError } from '../../../src/core/runtime.js';
import { applyUntil, assertNoInvalidWrites, containerOf, eventually, harness, workspace, type Harness } from './helpers.js';

const STS = (name: string) => `/apis/apps/v1/namespaces/team/statefulsets/${name}`;

describe('Kubernetes API failures', () => {
  let h: Harness;
  before(async () => {
    h = await harness();
  });
  after(async () => {
    assertNoInvalidWrites(h.fake);
    await h.close();
  });

  test('a 409 Conflict on the StatefulSet update is retried with a fresh read', async () => {
    const ws = workspace('conflicted');
    await applyUntil(h.runtime, ws, 'RUNNING');
    h.fake.failNext({ method: 'PUT', path: STS('conflicted') }, { status: 409, reason: 'Conflict' });
    await h.runtime.apply({ ...ws, generation: 2, env: [{ name: 'NEW', value: 'yes' }] });
    assert.deepEqual(containerOf(h.fake, 'team', 'conflicted').env, [{ name: 'NEW', value: 'yes' }]);
    // The injected conflict is retried after a fresh read. The simulated cluster writes the StatefulSet's
    // status on its own, so a retry may meet a real conflict too, as against a real API server: each
    // PUT but the last must have been answered 409, and only the first by injection.
    const calls = h.fake.requests.filter((r) => r.path === STS('conflicted') && (r.method === 'PUT' || r.method === 'GET'));
    const firstPut = calls.findIndex((r) => r.method === 'PUT');
    const lastPut = calls.findLastIndex((r) => r.method === 'PUT');
    const afterwards = calls.slice(firstPut, lastPut + 1);
    const puts = afterwards.filter((r) => r.method === 'PUT');
    assert.deepEqual(puts.map((r) => [r.status, r.injected ?? false]), [[409, true], ...puts.slice(1, -1).map(() => [409, false]), [200, false]]);
    assert.deepEqual(afterwards.map((r) => r.method), puts.flatMap((_, i) => (i === 0 ? ['PUT'] : ['GET', 'PUT'])));
  });

  test('endless conflicts give up after a bounded number of attempts', async () => {
    const ws = workspace('contended');
    await applyUntil(h.runtime, ws, 'RUNNING');
    h.fake.failNext({ method: 'PUT', path: STS('contended') }, ...Array.from({ length: 20 }, () => ({ status: 409 })));
    await assert.rejects(h.runtime.apply({ ...ws, generation: 2, image: 'x:2' }), (err: Error) => !(err instanceof PermanentRuntimeError) && /409|modified|injected/.test(err.message));
    const attempts = h.fake.requests.filter((r) => r.method === 'PUT' && r.path === STS('contended')).length;
    assert.ok(attempts >= 2 && attempts <= 10, `attempts: ${attempts}`);
  });

  test('403 is a permanent Forbidden error naming the verb and resource', async () => {
    h.fake.failNext({ method: 'POST', path: '/apis/apps/v1/namespaces/team/statefulsets' }, { status: 403, message: 'statefulsets.apps is forbidden: User "system:serviceaccount:team:wsm" cannot create resource "statefulsets"' });
    await assert.rejects(h.runtime.apply(workspace('denied')), (err: Error) => {
      assert.ok(err instanceof PermanentRuntimeError);
      assert.equal(err.reason, 'Forbidden');
      assert.match(err.message, /create statefulset denied in namespace team/);
      assert.match(err.message, /cannot create resource "statefulsets"/);
      return true;
    });
  });

  test('a 403 because the bound Role is not found (a restarted API server before its RBAC cache is synced) is retried', async () => {
    const message = 'statefulsets.apps "rbac-late" is forbidden: User "system:serviceaccount:team:wsm" cannot get resource "statefulsets" in API group "apps" in the namespace "team": RBAC: role.rbac.authorization.k8s.io "wsm" not found';
    h.fake.failNext({ method: 'GET', path: STS('rbac-late') }, { status: 403, message });
    await assert.rejects(h.runtime.apply(workspace('rbac-late')), (err: Error) => {
      assert.ok(!(err instanceof PermanentRuntimeError), 'not permanent');
      assert.match(err.message, /If this lasts, check that the wsm Role and RoleBinding exist/);
      return true;
    });
    await applyUntil(h.runtime, workspace('rbac-late'), 'RUNNING');
  });

  test('any 403 in the minute after the API server was unreachable is retried (its RBAC caches may still be loading)', async () => {
    const runtime = h.newRuntime();
    await h.fake.stop();
    await assert.rejects(runtime.observe(workspace('rbac-warm')), /unreachable/);
    await h.fake.restart();
    h.fake.failNext({ method: 'GET', path: STS('rbac-warm') }, { status: 403, message: 'statefulsets.apps "rbac-warm" is forbidden: User "system:serviceaccount:team:wsm" cannot get resource "statefulsets"' });
    await assert.rejects(runtime.apply(workspace('rbac-warm')), (err: Error) => !(err instanceof PermanentRuntimeError) && /If this lasts/.test(err.message));
    await applyUntil(runtime, workspace('rbac-warm'), 'RUNNING');
  });

  test('422 is a permanent Invalid error with the server message', async () => {
    h.fake.failNext({ method: 'POST', path: '/api/v1/namespaces/team/services' }, { status: 422, message: 'Service "invalid-service" is invalid: spec.ports[0].nodePort: Invalid value: 1: provided port is not in the valid range' });
    await assert.rejects(h.runtime.apply(workspace('invalid')), (err: Error) => {
      assert.ok(err instanceof PermanentRuntimeError);
      assert.equal(err.reason, 'Invalid');
      assert.match(err.message, /provided port is not in the valid range/);
      return true;
    });
  });

  test('a 500 is a retryable error', async () => {
    h.fake.failNext({ method: 'GET', path: STS('flaky') }, { status: 500 });
    await assert.rejects(h.runtime.apply(workspace('flaky')), (err: Error) => !(err instanceof PermanentRuntimeError));
    await applyUntil(h.runtime, workspace('flaky'), 'RUNNING');
  });

  test('an unreachable API server is a retryable error, and the next apply after it returns succeeds', async () => {
    const ws = workspace('offline');
    await h.fake.stop();
    try {
      await assert.rejects(h.runtime.apply(ws), (err: Error) => {
        assert.ok(!(err instanceof PermanentRuntimeError));
        assert.match(err.message, /unreachable/);
        return true;
      });
    } finally {
      await h.fake.restart();
    }
    await applyUntil(h.runtime, ws, 'RUNNING');
  });

  test('a request that never gets an answer times out as a retryable error', async () => {
    h.fake.failNext({ method: 'GET', path: STS('slow') }, { hang: true });
    await assert.rejects(h.runtime.apply(workspace('slow')), (err: Error) => {
      assert.ok(!(err instanceof PermanentRuntimeError));
      assert.match(err.message, /timed out/);
      return true;
    });
    await applyUntil(h.runtime, workspace('slow'), 'RUNNING');
  });

  test('a call cancelled by its caller ends at once, well before its timeout, as a cancellation', async () => {
    const runtime = h.newRuntime({ requestTimeoutMs: 60_000 });
    h.fake.failNext({ method: 'GET', path: STS('cancelled') }, { hang: true });
    const from = h.fake.requests.length;
    const caller = new AbortController();
    const applying = runtime.apply(workspace('cancelled'), caller.signal);
    await eventually(() => h.fake.requests.slice(from).some((r) => r.path === STS('cancelled')), 'the request to hang in the API server');
    caller.abort(new Error('the operation was cancelled'));
    await assert.rejects(applying, (err: Error) => {
      assert.equal(err.name, 'RuntimeCancelledError');
      assert.match(err.message, /^Cancelled while trying to get statefulset cancelled in namespace team: the operation was cancelled$/);
      return true;
    });
  });

  test('close() ends the calls still under way', async () => {
    const runtime = h.newRuntime({ requestTimeoutMs: 60_000 });
    h.fake.failNext({ method: 'GET', path: STS('closing') }, { hang: true });
    const from = h.fake.requests.length;
    const observing = runtime.observe(workspace('closing'));
    await eventually(() => h.fake.requests.slice(from).some((r) => r.path === STS('closing')), 'the request to hang');
    await runtime.close();
    await assert.rejects(observing, /Cancelled while trying to get statefulset closing in namespace team: the Kubernetes runtime is closing/);
  });
});
