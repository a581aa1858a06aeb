// The pure plan: its invariants for any two configs, and the cases where what the runtime sees stays the
// same though a stored field changed. What each runtime really does is held to the plan in
// test/e2e/{local,docker,kubernetes}/change-plan.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CHANGE_EFFECTS, planChange, strongest, type PlanInput } from '../../src/core/change-plan.js';
import { CLUSTER_TYPES, type ClusterType, type ContainerConfig, type WorkspaceSpec } from '../../src/core/types.js';
import { containerConfig, envList } from './arbitraries.js';

function spec(container: ContainerConfig, extra: Partial<WorkspaceSpec> = {}): WorkspaceSpec {
  return {
    container,
    lifecycle: { termination_policy: { enable_auto_termination: false, max_idle_seconds: 0 } },
    storage: { access_mode: 'ReadWriteOnce', request_size: '2Gi', retention_policy: 'Retain', mount_path: '/home/src' },
    ingress: { enabled: false },
    inherited_env: [],
    ...extra,
  };
}

const plan = (clusterType: ClusterType, before: WorkspaceSpec, after: WorkspaceSpec, over: Partial<PlanInput> = {}) =>
  planChange({ clusterType, before, after, defaultImage: 'mageai/mageai:latest', running: true, ...over });
const effects = (p: ReturnType<typeof planChange>) => Object.fromEntries(p.changes.map((c) => [c.field, c.effect]));

describe('planChange', () => {
  test('for any two configs: the plan\'s effect is its strongest change, it interrupts only a running workspace, and no change means none', () => {
    fc.assert(
      fc.property(containerConfig, containerConfig, envList, envList, fc.constantFrom(...CLUSTER_TYPES), fc.boolean(), (a, b, inhA, inhB, type, running) => {
        const p = plan(type, spec(a, { inherited_env: inhA }), spec(b, { inherited_env: inhB }), { running });
        assert.equal(p.effect, strongest(p.changes.map((c) => c.effect)));
        assert.equal(p.interrupts, running && (p.effect === 'restart' || p.effect === 'recreate'));
        assert.equal(new Set(p.changes.map((c) => c.field)).size, p.changes.length, 'each field once');
        for (const c of p.changes) assert.ok(CHANGE_EFFECTS.includes(c.effect) && c.message.length > 0);
        const same = plan(type, spec(a, { inherited_env: inhA }), spec(structuredClone(a), { inherited_env: inhA }), { running });
        assert.deepEqual([same.effect, same.changes, same.summary], ['none', [], 'Nothing changes.']);
      }),
    );
  });

  test('a stopped workspace is changed without being interrupted, and the summary says when the change lands', () => {
    const p = plan('docker', spec({ image: 'a:1' }), spec({ image: 'a:2' }), { running: false });
    assert.equal(p.effect, 'recreate');
    assert.equal(p.interrupts, false);
    assert.match(p.summary, /stopped.*when it is resumed.*recreated now/);
    const live = plan('docker', spec({}), spec({ public_url: 'http://x.example/' }), { running: false });
    assert.equal(live.summary, '1 field changes; nothing restarts (the workspace is stopped).');
    assert.equal(plan('docker', spec({}), spec({ public_url: 'http://x.example/' })).summary, '1 field changes; the workspace keeps running, nothing restarts.');
  });

  test('the environment counts as the workspace runs with it: own over inherited; order only in a pod template', () => {
    const inherited = [{ name: 'A', value: 'cluster' }];
    const own = spec({ env: [{ name: 'A', value: 'mine' }] }, { inherited_env: inherited });
    const recopied = spec({ env: [{ name: 'A', value: 'mine' }] }, { inherited_env: [{ name: 'A', value: 'new cluster value' }] });
    for (const type of CLUSTER_TYPES) assert.deepEqual(effects(plan(type, own, recopied)), { inherited_env: 'none' }, type);
    const ab = spec({ env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] });
    const ba = spec({ env: [{ name: 'B', value: '2' }, { name: 'A', value: '1' }] });
    assert.deepEqual(effects(plan('local', ab, ba)), { 'container_config.env': 'none' });
    assert.deepEqual(effects(plan('docker', ab, ba)), { 'container_config.env': 'none' });
    assert.deepEqual(effects(plan('k8s', ab, ba)), { 'container_config.env': 'recreate' });
  });

  test('defaults the runtime would use anyway change nothing it runs', () => {
    assert.deepEqual(effects(plan('docker', spec({}), spec({ image: 'mageai/mageai:latest' }))), {}, 'the default image named');
    assert.deepEqual(effects(plan('k8s', spec({}), spec({ port: 6789 }))), { 'container_config.port': 'none' });
    // local listens on host_port when there is one: port is then only stored.
    assert.deepEqual(effects(plan('local', spec({ host_port: 7000, port: 1 }), spec({ host_port: 7000, port: 2 }))), { 'container_config.port': 'none' });
  });

  test('post_start on Kubernetes rolls the pod only when there is a hook before or after', () => {
    const withHook = spec({}, { lifecycle: { termination_policy: { enable_auto_termination: false, max_idle_seconds: 0 }, post_start: { command: ['true'] } } });
    const flagOnly = spec({}, { lifecycle: { termination_policy: { enable_auto_termination: false, max_idle_seconds: 0 }, post_start: { fail_on_error: true } } });
    assert.deepEqual(effects(plan('k8s', spec({}), withHook)), { 'lifecycle_config.post_start': 'recreate' });
    assert.deepEqual(effects(plan('k8s', spec({}), flagOnly)), { 'lifecycle_config.post_start': 'none' });
    assert.deepEqual(effects(plan('docker', spec({}), withHook)), { 'lifecycle_config.post_start': 'deferred' });
  });
});
