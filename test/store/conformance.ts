// The behaviour every Store must have, written once and run against each database (store.test.ts).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WsmError } from '../../src/core/errors.js';
import type { Store } from '../../src/store/store.js';
import type { WorkspaceRecord } from '../../src/core/types.js';
import { at, inNamespace, operation, token, workspace } from './fixtures.js';
import { operationsAndAccessConformance } from './conformance-records.js';
import { identityConformance } from './conformance-identity.js';

/** One empty database per test. */
export interface StoreHarness {
  /** A migrated store over this test's database. May be called again to open a second handle on it. */
  open(): Promise<Store>;
  /** Runs SQL on this test's database outside wsm, as an operator or an older wsm would. */
  execute(statement: string): Promise<void>;
  /** Closes nothing opened by the test; removes the database. */
  cleanup(): Promise<void>;
}

export type WithStore = (fn: (store: Store, harness: StoreHarness) => Promise<void>) => Promise<void>;

export function storeConformance(label: string, makeHarness: () => Promise<StoreHarness>): void {
  const withStore: WithStore = async (fn) => {
    const harness = await makeHarness();
    const store = await harness.open();
    try {
      await fn(store, harness);
    } finally {
      await store.close();
      await harness.cleanup();
    }
  };

  describe(`store conformance: ${label}`, () => {
    test('a workspace reads back exactly as written, and a missing one is undefined', () =>
      withStore(async (store) => {
        const ws = workspace('alpha', { deletion: { requested_at: at(5), delete_volume: true } });
        await store.insertWorkspace(ws);
        assert.deepEqual(await store.getWorkspace('alpha'), ws);
        const plain = workspace('beta');
        await store.insertWorkspace(plain);
        const read = await store.getWorkspace('beta');
        assert.deepEqual(read, plain);
        assert.equal(read !== undefined && 'deletion' in read, false);
        assert.equal(await store.getWorkspace('nope'), undefined);
      }));

    test('inserting a taken name is a conflict and leaves the first workspace alone', () =>
      withStore(async (store) => {
        await store.insertWorkspace(workspace('dup', { project_uuid: 'first' }));
        await assert.rejects(store.insertWorkspace(workspace('dup', { project_uuid: 'second' })), (err: unknown) => {
          assert.ok(err instanceof WsmError);
          assert.equal(err.type, 'conflict');
          assert.equal(err.status, 409);
          assert.equal(err.message, 'Workspace dup already exists.');
          return true;
        });
        assert.equal((await store.getWorkspace('dup'))?.project_uuid, 'first');
      }));

    test('replaceWorkspace writes only when the resource version still matches', () =>
      withStore(async (store) => {
        const v1 = workspace('cas');
        await store.insertWorkspace(v1);
        const v2 = { ...v1, desired_state: 'stopped' as const, generation: 2, resource_version: 2 };
        assert.equal(await store.replaceWorkspace(v2, 1), true);
        assert.deepEqual(await store.getWorkspace('cas'), v2);

        const stale = { ...v1, project_uuid: 'stale', resource_version: 2 };
        assert.equal(await store.replaceWorkspace(stale, 1), false);
        assert.deepEqual(await store.getWorkspace('cas'), v2);

        assert.equal(await store.replaceWorkspace(workspace('ghost', { resource_version: 2 }), 1), false);
        assert.equal(await store.getWorkspace('ghost'), undefined);
      }));

    test('of two concurrent replaces from the same version exactly one wins', () =>
      withStore(async (store) => {
        const v1 = workspace('race');
        await store.insertWorkspace(v1);
        const a = { ...v1, updated_at: at(20), resource_version: 2 };
        const b = { ...v1, updated_at: at(21), resource_version: 2 };
        const results = await Promise.all([store.replaceWorkspace(a, 1), store.replaceWorkspace(b, 1)]);
        assert.deepEqual([...results].sort(), [false, true]);
        const winner = results[0] ? a : b;
        assert.equal((await store.getWorkspace('race'))?.updated_at, winner.updated_at);
      }));

    test('replaceWorkspace keeps what is fixed at insert: cluster type, project, namespace, created_at', () =>
      withStore(async (store) => {
        const v1 = workspace('fixed');
        await store.insertWorkspace(v1);
        const changed = {
          ...v1,
          cluster_type: 'k8s' as const,
          project_uuid: 'other',
          created_at: at(30),
          spec: { ...v1.spec, namespace: 'elsewhere' },
          desired_state: 'stopped' as const,
          resource_version: 2,
        };
        assert.equal(await store.replaceWorkspace(changed, 1), true);
        const stored = await store.getWorkspace('fixed');
        assert.equal(stored?.desired_state, 'stopped');
        assert.deepEqual([stored?.cluster_type, stored?.project_uuid, stored?.created_at], [v1.cluster_type, v1.project_uuid, v1.created_at]);
        assert.equal((await store.listWorkspaces({ namespace: ['elsewhere'], limit: 10, offset: 0 })).total, 0);
      }));

    test('setObserved and setActivity change their part only, never the resource version', () =>
      withStore(async (store) => {
        const ws = workspace('obs', { resource_version: 7 });
        await store.insertWorkspace(ws);
        const observed = {
          status: 'RUNNING' as const,
          observed_generation: 1,
          ip: '10.0.0.5',
          url: 'http://127.0.0.1:6790',
          conditions: [],
          updated_at: at(10),
        };
        await store.setObserved('obs', observed);
        const activity = { last_activity_at: at(11), last_activity_source: 'heartbeat' as const };
        await store.setActivity('obs', activity);
        assert.deepEqual(await store.getWorkspace('obs'), { ...ws, observed, activity });
        const page = await store.listWorkspaces({ status: ['RUNNING'], limit: 10, offset: 0 });
        assert.deepEqual(page.workspaces.map((w) => w.name), ['obs']);
        // The CAS still expects the version the API last handed out.
        assert.equal(await store.replaceWorkspace({ ...ws, observed, activity, resource_version: 8 }, 7), true);
        await store.setObserved('missing', observed);
        assert.equal(await store.getWorkspace('missing'), undefined);
      }));

    test('listIdleCandidates yields running workspaces past their idle limit, kept in step by every write', () =>
      withStore(async (store) => {
        const now = Date.parse('2024-06-01T12:00:00.000Z');
        const ago = (s: number) => ({ last_activity_at: new Date(now - s * 1000).toISOString(), last_activity_source: 'api' as const });
        const running = { ...workspace('x').observed, status: 'RUNNING' as const };
        // Limit 600 s (the fixture's policy): 601 s idle is due, exactly 600 s is not.
        for (const [name, idle] of [['old-b', 900], ['old-a', 700], ['edge', 600], ['fresh', 10], ['late', 601]] as const) {
          await store.insertWorkspace(workspace(name, { observed: running, activity: ago(idle) }));
        }
        await store.insertWorkspace(workspace('pending', { activity: ago(5000) }));
        const names = async () => {
          const seen: string[] = [];
          let page = await store.listIdleCandidates(now, 2);
          for (;;) {
            seen.push(...page.workspaces.map((w) => w.name));
            if (!page.next) return seen;
            page = await store.listIdleCandidates(now, 2, page.next);
          }
        };
        // Longest idle first, across pages of 2.
        assert.deepEqual(await names(), ['old-b', 'old-a', 'late']);
        const first = await store.listIdleCandidates(now, 10);
        assert.deepEqual(first.workspaces[0], await store.getWorkspace('old-b'));

        await store.setActivity('old-a', ago(1));
        await store.setObserved('late', { ...running, status: 'STOPPED' });
        await store.setActivity('fresh', ago(10_000));
        assert.deepEqual(await names(), ['fresh', 'old-b']);

        // A new policy applies to the stored activity: off, then a limit longer than the idle time.
        const b = (await store.getWorkspace('old-b'))!;
        const off = { ...b.spec, lifecycle: { termination_policy: { enable_auto_termination: false, max_idle_seconds: 600 } } };
        assert.equal(await store.replaceWorkspace({ ...b, spec: off, resource_version: 2 }, 1), true);
        const f = (await store.getWorkspace('fresh'))!;
        const longer = { ...f.spec, lifecycle: { termination_policy: { enable_auto_termination: true, max_idle_seconds: 20_000 } } };
        assert.equal(await store.replaceWorkspace({ ...f, spec: longer, resource_version: 2 }, 1), true);
        assert.deepEqual(await names(), []);
        const on = { ...b.spec, lifecycle: { termination_policy: { enable_auto_termination: true, max_idle_seconds: 60 } } };
        assert.equal(await store.replaceWorkspace({ ...b, spec: on, resource_version: 3 }, 2), true);
        assert.deepEqual(await names(), ['old-b']);
      }));

    test('listScheduled yields only the workspaces with a schedule, by name in pages, kept in step by writes of the spec', () =>
      withStore(async (store) => {
        const schedule = { autostop: '0 19 * * 1-5', timezone: 'Europe/Berlin' };
        const scheduled = (ws: ReturnType<typeof workspace>) => ({ ...ws, spec: { ...ws.spec, lifecycle: { ...ws.spec.lifecycle, schedule } } });
        for (const name of ['s-c', 's-a', 's-b']) await store.insertWorkspace(scheduled(workspace(name)));
        for (const name of ['plain-a', 'plain-z']) await store.insertWorkspace(workspace(name));
        const names = async () => {
          const seen: string[] = [];
          for (let after: string | undefined, first = true; first || after; first = false) {
            const page = await store.listScheduled(2, after);
            seen.push(...page.workspaces.map((w) => w.name));
            after = page.next;
          }
          return seen;
        };
        assert.deepEqual(await names(), ['s-a', 's-b', 's-c']);
        assert.deepEqual((await store.listScheduled(10)).workspaces[0], await store.getWorkspace('s-a'));

        // A schedule set by a patch is found; one removed is not.
        const plain = (await store.getWorkspace('plain-z'))!;
        assert.equal(await store.replaceWorkspace({ ...scheduled(plain), resource_version: 2 }, 1), true);
        const b = (await store.getWorkspace('s-b'))!;
        assert.equal(await store.replaceWorkspace({ ...b, spec: { ...b.spec, lifecycle: { ...b.spec.lifecycle, schedule: undefined } }, resource_version: 2 }, 1), true);
        assert.deepEqual(await names(), ['plain-z', 's-a', 's-c']);
        // Other writers leave it as it is.
        await store.setObserved('s-a', { ...b.observed, status: 'RUNNING' });
        await store.setActivity('s-a', { schedule_checked_at: '2024-06-01T12:00:00.000Z' });
        assert.deepEqual(await names(), ['plain-z', 's-a', 's-c']);
        await store.deleteWorkspace('s-c');
        assert.deepEqual(await names(), ['plain-z', 's-a']);
      }));

    test('listWorkspaces filters, orders by name, pages, and counts the whole match', () =>
      withStore(async (store) => {
        const rows = [
          workspace('zeta', { cluster_type: 'k8s' }),
          inNamespace(workspace('Alpha-Data', { cluster_type: 'k8s' }), 'team-a'),
          inNamespace(workspace('beta'), 'team-b'),
          inNamespace(workspace('gamma_data'), undefined),
          workspace('delta-data', { cluster_type: 'local' }),
          workspace('epsilon%x', { cluster_type: 'local' }),
        ];
        for (const ws of rows) await store.insertWorkspace(ws);
        await store.setObserved('beta', { ...rows[2]!.observed, status: 'RUNNING' });
        await store.setObserved('zeta', { ...rows[0]!.observed, status: 'STOPPED' });
        const names = async (f: Parameters<Store['listWorkspaces']>[0]) => {
          const page = await store.listWorkspaces(f);
          return { names: page.workspaces.map((w) => w.name), total: page.total };
        };
        assert.deepEqual(await names({ limit: 100, offset: 0 }), {
          names: ['Alpha-Data', 'beta', 'delta-data', 'epsilon%x', 'gamma_data', 'zeta'],
          total: 6,
        });
        assert.deepEqual(await names({ limit: 2, offset: 2 }), { names: ['delta-data', 'epsilon%x'], total: 6 });
        assert.deepEqual(await names({ limit: 2, offset: 10 }), { names: [], total: 6 });
        assert.deepEqual(await names({ cluster_type: 'k8s', limit: 100, offset: 0 }), {
          names: ['Alpha-Data', 'zeta'],
          total: 2,
        });
        assert.deepEqual(await names({ status: ['RUNNING', 'STOPPED'], limit: 1, offset: 0 }), {
          names: ['beta'],
          total: 2,
        });
        assert.deepEqual(await names({ namespace: ['team-a', 'team-b'], limit: 100, offset: 0 }), {
          names: ['Alpha-Data', 'beta'],
          total: 2,
        });
        assert.deepEqual(await names({ search: 'DATA', limit: 100, offset: 0 }), {
          names: ['Alpha-Data', 'delta-data', 'gamma_data'],
          total: 3,
        });
        // LIKE wildcards in the search are plain characters.
        assert.deepEqual(await names({ search: '_', limit: 100, offset: 0 }), { names: ['gamma_data'], total: 1 });
        assert.deepEqual(await names({ search: '%', limit: 100, offset: 0 }), { names: ['epsilon%x'], total: 1 });
        assert.deepEqual(
          await names({ cluster_type: 'local', search: 'data', status: ['PENDING'], limit: 100, offset: 0 }),
          { names: ['delta-data'], total: 1 },
        );
        assert.deepEqual(await names({ names: ['zeta', 'beta', 'not-there'], limit: 100, offset: 0 }), {
          names: ['beta', 'zeta'],
          total: 2,
        });
        assert.deepEqual(await names({ names: ['zeta', 'beta', 'delta-data'], search: 'ET', limit: 1, offset: 1 }), {
          names: ['zeta'],
          total: 2,
        });
        assert.deepEqual(await names({ names: [], limit: 100, offset: 0 }), { names: [], total: 0 });
        assert.deepEqual(await store.listWorkspaceNames(), [
          'Alpha-Data',
          'beta',
          'delta-data',
          'epsilon%x',
          'gamma_data',
          'zeta',
        ]);
      }));

    test('listWorkspaces with the dormant filter: left stopped, neither changed nor active since the cut-off, and its complement', () =>
      withStore(async (store) => {
        const stopped = { desired_state: 'stopped' as const };
        await store.insertWorkspace(workspace('old', { ...stopped, updated_at: at(100), activity: { last_activity_at: at(50) } }));
        await store.insertWorkspace(workspace('active', { ...stopped, updated_at: at(100), activity: { last_activity_at: at(900) } }));
        await store.insertWorkspace(workspace('changed', { ...stopped, updated_at: at(900) }));
        await store.insertWorkspace(workspace('running', { updated_at: at(100) }));
        await store.insertWorkspace(workspace('deleting', { ...stopped, updated_at: at(100), deletion: { requested_at: at(100), delete_volume: false } }));
        for (const name of ['old', 'active', 'changed', 'running', 'deleting']) {
          const ws = (await store.getWorkspace(name))!;
          await store.setObserved(name, { ...ws.observed, status: name === 'running' ? 'RUNNING' : 'STOPPED' });
        }
        const cutoff = Date.parse(at(500));
        const page = async (dormant: boolean) => (await store.listWorkspaces({ dormant: { cutoff, dormant }, limit: 100, offset: 0 })).workspaces.map((w) => w.name);
        assert.deepEqual(await page(true), ['old']);
        assert.deepEqual(await page(false), ['active', 'changed', 'deleting', 'running']);
      }));

    test('deleteWorkspace removes the row', () =>
      withStore(async (store) => {
        await store.insertWorkspace(workspace('gone'));
        await store.insertWorkspace(workspace('kept'));
        await store.deleteWorkspace('gone');
        await store.deleteWorkspace('never-was');
        assert.equal(await store.getWorkspace('gone'), undefined);
        assert.deepEqual(await store.listWorkspaceNames(), ['kept']);
        await store.insertWorkspace(workspace('gone'));
        assert.deepEqual(await store.listWorkspaceNames(), ['gone', 'kept']);
      }));

    test('a transaction lands all of its writes when fn returns', () =>
      withStore(async (store) => {
        const result = await store.transaction(async (tx) => {
          await tx.insertWorkspace(workspace('tx-ok'));
          await tx.insertOperation(operation('op-ok', 'tx-ok', { action: 'create' }));
          assert.equal((await tx.getWorkspace('tx-ok'))?.name, 'tx-ok');
          return 42;
        });
        assert.equal(result, 42);
        assert.equal((await store.getWorkspace('tx-ok'))?.name, 'tx-ok');
        assert.equal((await store.getOperation('op-ok'))?.action, 'create');
      }));

    test('a transaction that throws lands none of its writes and rethrows', () =>
      withStore(async (store) => {
        await store.insertWorkspace(workspace('base'));
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.insertWorkspace(workspace('tx-bad'));
            await tx.insertOperation(operation('op-bad', 'tx-bad'));
            assert.equal(await tx.replaceWorkspace({ ...workspace('base'), resource_version: 2 }, 1), true);
            throw new Error('boom');
          }),
          /boom/,
        );
        assert.equal(await store.getWorkspace('tx-bad'), undefined);
        assert.equal(await store.getOperation('op-bad'), undefined);
        assert.equal((await store.getWorkspace('base'))?.resource_version, 1);
      }));

    test('a conflict inside a transaction rolls it back, and the store keeps working', () =>
      withStore(async (store) => {
        await store.insertWorkspace(workspace('taken'));
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.insertOperation(operation('op-x', 'taken', { action: 'create' }));
            await tx.insertWorkspace(workspace('taken'));
          }),
          (err: unknown) => err instanceof WsmError && err.type === 'conflict',
        );
        assert.equal(await store.getOperation('op-x'), undefined);
        await store.transaction(async (tx) => tx.insertOperation(operation('op-y', 'taken')));
        assert.equal((await store.getOperation('op-y'))?.id, 'op-y');
      }));

    test('migrate is idempotent and a second handle sees the same data', () =>
      withStore(async (store, harness) => {
        await store.insertWorkspace(workspace('persisted'));
        await store.insertToken(token('t1'));
        await store.migrate();
        await store.migrate();
        const second = await harness.open();
        try {
          assert.deepEqual(await second.getWorkspace('persisted'), workspace('persisted'));
          assert.equal((await second.findTokenByHash('hash-of-t1'))?.id, 't1');
        } finally {
          await second.close();
        }
      }));

    test('two handles on one database (two replicas) each read what the other wrote, at once', () =>
      withStore(async (store, harness) => {
        const ws = workspace('shared', { observed: { status: 'STOPPED', observed_generation: 1, conditions: [], updated_at: at(1) } });
        await store.insertWorkspace(ws);
        await store.putClusterSettings({ env: [{ name: 'A', value: '1' }], inherit_patterns: [] });
        const other = await harness.open();
        try {
          // Each reads first, so that anything it kept would now be old.
          assert.equal((await other.getWorkspace('shared'))?.desired_state, 'running');
          assert.equal((await store.listWorkspaces({ limit: 10, offset: 0 })).total, 1);
          assert.deepEqual((await other.getClusterSettings()).env, [{ name: 'A', value: '1' }]);

          assert.equal(await store.replaceWorkspace({ ...ws, desired_state: 'stopped', resource_version: 2 }, 1), true);
          await store.setObserved('shared', { ...ws.observed, status: 'RUNNING' });
          await store.putClusterSettings({ env: [], inherit_patterns: ['B*'] });
          const seen = await other.getWorkspace('shared');
          assert.equal(seen?.desired_state, 'stopped');
          assert.equal(seen?.observed.status, 'RUNNING');
          assert.deepEqual((await other.listWorkspaces({ status: ['RUNNING'], limit: 10, offset: 0 })).workspaces.map((w) => w.resource_version), [2]);
          assert.deepEqual((await other.getClusterSettings()).inherit_patterns, ['B*']);

          await other.insertWorkspace(workspace('from-other'));
          await other.transaction((tx) => tx.setActivity('shared', { last_activity_at: at(9), last_activity_source: 'api' }));
          assert.deepEqual((await store.listWorkspaces({ limit: 10, offset: 0 })).workspaces.map((w) => w.name), ['from-other', 'shared']);
          assert.equal((await store.getWorkspace('shared'))?.activity.last_activity_at, at(9));
          await other.deleteWorkspace('shared');
          assert.equal(await store.getWorkspace('shared'), undefined);
          assert.deepEqual(await store.listWorkspaceNames(), ['from-other']);
        } finally {
          await other.close();
        }
      }));

    test('a record one handle read is never served again once the row changed, whoever wrote it', () =>
      withStore(async (store, harness) => {
        const ws = workspace('kept');
        await store.insertWorkspace(ws);
        const other = await harness.open();
        const page = async (s: Store) => (await s.listWorkspaces({ limit: 10, offset: 0 })).workspaces[0];
        try {
          // Read through both paths after each write, so that each has kept the row it saw.
          const reads = async (check: (seen: WorkspaceRecord | undefined) => void) => {
            for (const s of [store, other]) {
              check(await s.getWorkspace('kept'));
              check(await page(s));
            }
          };
          await reads((seen) => assert.equal(seen?.observed.status, ws.observed.status));

          await other.setObserved('kept', { ...ws.observed, status: 'FAILED', message: 'from the other replica' });
          await reads((seen) => assert.equal(seen?.observed.message, 'from the other replica'));
          await store.setActivity('kept', { last_activity_at: at(7), last_activity_source: 'api' });
          await reads((seen) => assert.equal(seen?.activity.last_activity_at, at(7)));
          assert.equal(await other.replaceWorkspace({ ...ws, desired_state: 'stopped', resource_version: 2 }, 1), true);
          await reads((seen) => assert.equal(seen?.desired_state, 'stopped'));

          // A writer that knows nothing of revisions: the database raises it all the same.
          await harness.execute(`update workspaces set desired_state = 'running' where name = 'kept'`);
          await reads((seen) => assert.equal(seen?.desired_state, 'running'));

          // Deleted and created again under its name (another uid), with the same revision count.
          await other.deleteWorkspace('kept');
          await reads((seen) => assert.equal(seen, undefined));
          await other.insertWorkspace(workspace('kept', { uid: 'uid-kept-again', project_uuid: 'second-life' }));
          await reads((seen) => assert.equal(seen?.project_uuid, 'second-life'));
        } finally {
          await other.close();
        }
      }));

    test('records of workspaces with the same spec each follow their own row when one spec changes', () =>
      withStore(async (store, harness) => {
        const [a, b] = [workspace('twin-a', { uid: 'uid-twin-a' }), workspace('twin-b', { uid: 'uid-twin-b' })];
        await store.insertWorkspace(a);
        await store.insertWorkspace(b);
        const other = await harness.open();
        try {
          const both = async (s: Store) => (await s.listWorkspaces({ limit: 10, offset: 0, search: 'twin-' })).workspaces;
          assert.deepEqual((await both(store)).map((w) => w.spec), [a.spec, b.spec]);
          const changed = { ...a.spec, container: { ...a.spec.container, env: [{ name: 'ONLY_A', value: '1' }] } };
          assert.equal(await other.replaceWorkspace({ ...a, spec: changed, resource_version: 2 }, 1), true);
          const [readA, readB] = await both(store);
          assert.deepEqual(readA?.spec, changed);
          assert.deepEqual(readB?.spec, b.spec);
          assert.deepEqual((await store.getWorkspace('twin-b'))?.spec, b.spec);
        } finally {
          await other.close();
        }
      }));

    test('a record read inside a transaction that rolled back is never served', () =>
      withStore(async (store) => {
        const ws = workspace('rolled');
        await store.insertWorkspace(ws);
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.setObserved('rolled', { ...ws.observed, message: 'never committed' });
            assert.equal((await tx.getWorkspace('rolled'))?.observed.message, 'never committed');
            assert.equal((await tx.listWorkspaces({ limit: 1, offset: 0 })).workspaces[0]?.observed.message, 'never committed');
            throw new Error('roll back');
          }),
          /roll back/,
        );
        // The next write reaches the revision the rolled-back one had, with other content.
        await store.setObserved('rolled', { ...ws.observed, message: 'committed' });
        assert.equal((await store.getWorkspace('rolled'))?.observed.message, 'committed');
        assert.equal((await store.listWorkspaces({ limit: 1, offset: 0 })).workspaces[0]?.observed.message, 'committed');
      }));

    operationsAndAccessConformance(withStore);
    identityConformance(withStore);
  });
}
