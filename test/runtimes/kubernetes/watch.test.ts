import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { applyUntil, eventually, harness, workspace, type Harness } from './helpers.js';

describe('KubernetesRuntime.watch', () => {
  let h: Harness;
  const seen: string[] = [];
  const restarts: string[] = [];
  let stop: () => void;
  before(async () => {
    h = await harness();
    stop = h.runtime.watch((name) => seen.push(name), (why) => restarts.push(why));
  });
  after(async () => {
    stop();
    await h.close();
  });

  test('fires for the workspace when its pod changes', async () => {
    await applyUntil(h.runtime, workspace('watched'), 'RUNNING');
    await eventually(() => seen.includes('watched'), 'a change for watched');
    seen.length = 0;
    h.fake.remove('pods', 'team', 'watched-0'); // the pod dies behind our back
    await eventually(() => seen.includes('watched'), 'a change after the pod was deleted');
  });

  test('does not fire for objects wsm does not manage', async () => {
    seen.length = 0;
    h.fake.put('statefulsets', {
      metadata: { name: 'foreign', namespace: 'team', labels: { app: 'foreign' } },
      spec: { replicas: 1, serviceName: 'foreign', selector: { matchLabels: { app: 'foreign' } }, template: { metadata: { labels: { app: 'foreign' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
    });
    await applyUntil(h.runtime, workspace('marker'), 'RUNNING');
    await eventually(() => seen.includes('marker'), 'the marker workspace');
    assert.ok(!seen.includes('foreign'));
  });

  test('keeps following after the API server restarts and after its history is compacted (410 Gone)', async () => {
    await h.fake.stop();
    // A write while the watchers are away, then compaction: both informers' resourceVersions are now too old.
    h.fake.put('configmaps', { metadata: { name: 'bump', namespace: 'team' } });
    h.fake.compactHistory();
    const from = h.fake.requests.length;
    await h.fake.restart();
    seen.length = 0;
    await applyUntil(h.runtime, workspace('after-restart'), 'RUNNING');
    await eventually(() => seen.includes('after-restart'), 'a change after the restart', 15_000);
    const relisted = (path: string, labelSelector: string) =>
      h.fake.requests.slice(from).some((r) => r.path === path && r.query.watch === undefined && r.query.labelSelector === labelSelector);
    // The pod template carries no installation label; the StatefulSet does, and only this installation's are followed.
    await eventually(
      () =>
        relisted('/api/v1/namespaces/team/pods', 'app.kubernetes.io/managed-by=wsm') &&
        relisted('/apis/apps/v1/namespaces/team/statefulsets', 'app.kubernetes.io/managed-by=wsm,wsm.io/installation=default'),
      'both informers to list again',
    );
    // Each watch lost with the server, then found its position expired (metrics count both).
    assert.ok(restarts.includes('lost'), restarts.join());
    assert.ok(restarts.includes('gone'), restarts.join());
  });

  test('follows a namespace first used after watch started', async () => {
    seen.length = 0;
    await applyUntil(h.runtime, workspace('far', { namespace: 'far-away' }), 'RUNNING');
    await eventually(() => seen.includes('far'), 'a change in the new namespace');
  });
});

describe('KubernetesRuntime.watch: a watch that stops delivering without closing', () => {
  let h: Harness;
  const seen: string[] = [];
  let stop: () => void;
  before(async () => {
    // Bookmarks every 100 ms; a watch silent for 1.5 s is restarted.
    h = await harness({ watchSilenceMs: 1500 }, { bookmarkMs: 100 });
    stop = h.runtime.watch((name) => seen.push(name));
  });
  after(async () => {
    stop();
    await h.close();
  });

  test('asks for bookmarks and a server-side timeout on every watch', async () => {
    await applyUntil(h.runtime, workspace('asked'), 'RUNNING');
    const watches = h.fake.requests.filter((r) => r.query.watch === 'true');
    assert.equal(watches.length, 5, 'statefulsets, pods, services, configmaps, ingresses');
    for (const w of watches) {
      assert.equal(w.query.allowWatchBookmarks, 'true', w.path);
      assert.equal(w.query.timeoutSeconds, '300', w.path);
    }
  });

  test('is noticed by its silence and started again from where it was; the change made meanwhile arrives', async () => {
    await applyUntil(h.runtime, workspace('quiet'), 'RUNNING');
    const from = h.fake.requests.length;
    h.fake.stallWatches();
    seen.length = 0;
    h.fake.remove('services', 'team', 'quiet-service'); // not delivered by the stalled watches
    const resumed = () => h.fake.requests.slice(from).filter((r) => r.query.watch === 'true' && r.path === '/api/v1/namespaces/team/services');
    // Both: an event of the start that was on its way before the stall may name the workspace first.
    await eventually(() => resumed().length >= 1 && seen.includes('quiet'), 'the deletion, through a new services watch', 10_000);
    assert.ok(Number(resumed()[0]!.query.resourceVersion) > 0, 'resumed from the last resourceVersion seen (bookmarks move it on), not re-listed');
  });
});
