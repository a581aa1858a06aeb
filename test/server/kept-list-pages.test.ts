// Kept list answers (src/server/kept-list-pages.ts): a page is answered from its kept text only while
// the database holds exactly the rows it was rendered from, whoever wrote them, and the idle seconds
// are those of the moment of each answer.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { WorkspaceRecord } from '../../src/core/types.js';
import { deepFreeze } from '../../src/lib/deep-freeze.js';
import { IDLE_MARK, KeptListPages } from '../../src/server/kept-list-pages.js';
import { openStore, type Store } from '../../src/store/index.js';
import { workspace } from '../store/fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** A local workspace asked to stay stopped: the controller has nothing to do for it. */
function stopped(name: string, lastActivityAt?: string): WorkspaceRecord {
  const base = workspace(name, { uid: `uid-${name}-${Date.now()}`, cluster_type: 'local', desired_state: 'stopped' });
  return {
    ...base,
    spec: { ...base.spec, container: { command: ['true'] } },
    observed: { status: 'STOPPED', observed_generation: 1, conditions: [], updated_at: base.updated_at },
    activity: lastActivityAt === undefined ? {} : { last_activity_at: lastActivityAt, last_activity_source: 'api' },
  };
}

describe('a kept list page, with a second replica writing to the same database', () => {
  let dataDir: string;
  let srv: TestServer;
  let replica: Store;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'wsm-kept-pages-'));
    const seeding = await openStore({ dataDir });
    for (const name of ['kp-a', 'kp-b', 'kp-c']) await seeding.insertWorkspace(stopped(name, new Date(Date.now() - 3_600_000).toISOString()));
    await seeding.close();
    srv = await startTestServer({ dataDir });
    replica = await openStore({ dataDir });
  });
  after(async () => {
    await replica?.close();
    await srv?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** The page, read twice so that the second answer comes from the kept text when anything does. */
  async function page(): Promise<{ workspaces: any[]; metadata: any }> {
    const first = await srv.request('GET', '/api/workspaces?q=kp-&limit=2');
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const again = await srv.request('GET', '/api/workspaces?q=kp-&limit=2');
    assert.deepEqual(again.body.workspaces.map((w: any) => w.name), first.body.workspaces.map((w: any) => w.name));
    return again.body;
  }

  test('every write by the other replica, or by hand in the database, shows in the next answer', async () => {
    const before = await page();
    assert.deepEqual(before.workspaces.map((w) => w.name), ['kp-a', 'kp-b']);
    assert.equal(before.metadata.count, 3);
    assert.equal(before.metadata.next_offset, 2);

    // The other replica records a heartbeat.
    const beat = new Date(Date.now() - 120_000).toISOString();
    await replica.setActivity('kp-a', { last_activity_at: beat, last_activity_source: 'heartbeat' });
    const afterBeat = await page();
    assert.equal(afterBeat.workspaces[0].activity.last_activity_source, 'heartbeat');
    assert.equal(afterBeat.workspaces[0].activity.last_activity_at, beat);
    assert.ok(afterBeat.workspaces[0].activity.idle_seconds >= 120 && afterBeat.workspaces[0].activity.idle_seconds < 200);

    // An operator's UPDATE, which does not raise the revision itself.
    const raw = new BetterSqlite3(join(dataDir, 'wsm.sqlite'));
    try {
      raw.prepare(`update workspaces set observed = json_set(observed, '$.message', 'set by hand') where name = 'kp-b'`).run();
    } finally {
      raw.close();
    }
    const afterHand = await page();
    assert.equal(afterHand.workspaces[1].status_message, 'set by hand');

    // A delete and a create by the other replica change the page and its count.
    await replica.deleteWorkspace('kp-b');
    const afterDelete = await page();
    assert.deepEqual(afterDelete.workspaces.map((w) => w.name), ['kp-a', 'kp-c']);
    assert.equal(afterDelete.metadata.count, 2);
    assert.equal(afterDelete.metadata.next_offset, null);
    await replica.insertWorkspace(stopped('kp-aa'));
    const afterCreate = await page();
    assert.deepEqual(afterCreate.workspaces.map((w) => w.name), ['kp-a', 'kp-aa']);
    assert.equal(afterCreate.workspaces[1].activity.idle_seconds, null);
    assert.equal(afterCreate.metadata.count, 3);
  });

  test('a viewer and an owner get their own access in the same page', async () => {
    const viewer = await srv.token('viewer');
    const asViewer = await srv.request('GET', '/api/workspaces?q=kp-&limit=2', { token: viewer });
    const asOwner = await srv.request('GET', '/api/workspaces?q=kp-&limit=2');
    assert.deepEqual(asViewer.body.workspaces.map((w: any) => w.access), ['viewer', 'viewer']);
    assert.deepEqual(asOwner.body.workspaces.map((w: any) => w.access), ['owner', 'owner']);
  });
});

describe('KeptListPages', () => {
  const last = Date.parse('2026-01-01T00:00:00.000Z');
  const records = [
    deepFreeze(stopped('one', new Date(last).toISOString())),
    deepFreeze(stopped('two')),
    deepFreeze(stopped('three', new Date(last - 10_000).toISOString())),
  ];
  const page = { total: 3, workspaces: records };
  /** What a route renders: the records, with the mark where a known idle figure goes. */
  const rendered = (ws: readonly WorkspaceRecord[]) =>
    JSON.stringify({ workspaces: ws.map((w) => ({ name: w.name, activity: { idle_seconds: w.activity.last_activity_at ? IDLE_MARK : null } })) });
  const idles = (answer: { bytes: Buffer } | undefined) => (JSON.parse(String(answer?.bytes)).workspaces as any[]).map((w) => w.activity.idle_seconds);

  test('each answer carries the idle seconds of its own moment', () => {
    const kept = new KeptListPages();
    assert.deepEqual(idles(kept.keep('k', page, rendered(records), last + 1_500)), [1, null, 11]);
    assert.deepEqual(idles(kept.answer('k', page, last + 86_400_000)), [86_400, null, 86_410]);
    assert.deepEqual(idles(kept.answer('k', page, last - 5_000)), [0, null, 5]);
  });

  test('an answer keeps its bytes until it is released; released buffers serve later answers', () => {
    const kept = new KeptListPages();
    const first = kept.keep('k', page, rendered(records), last + 1_000)!;
    const second = kept.answer('k', page, last + 2_000)!;
    assert.deepEqual(idles(first), [1, null, 11]);
    assert.deepEqual(idles(second), [2, null, 12]);
    first.release();
    const third = kept.answer('k', page, last + 3_000)!;
    assert.equal(third.bytes.buffer, first.bytes.buffer);
    assert.deepEqual(idles(second), [2, null, 12]);
    assert.deepEqual(idles(third), [3, null, 13]);
  });

  test('a page is answered again only for the very same records and total', () => {
    const kept = new KeptListPages();
    kept.keep('k', page, rendered(records), last);
    assert.ok(kept.answer('k', page, last));
    assert.equal(kept.answer('other', page, last), undefined);
    assert.equal(kept.answer('k', { ...page, total: 4 }, last), undefined);
    const sameContentOtherObject = deepFreeze(structuredClone(records[1]!));
    assert.equal(kept.answer('k', { total: 3, workspaces: [records[0]!, sameContentOtherObject, records[2]!] }, last), undefined);
    assert.equal(kept.answer('k', { total: 3, workspaces: records.slice(0, 2) }, last), undefined);
  });

  test('records that may still change are not kept', () => {
    const kept = new KeptListPages();
    const mutable = [stopped('x', new Date(last).toISOString())];
    assert.equal(kept.keep('k', { total: 1, workspaces: mutable }, rendered(mutable), last), undefined);
    assert.equal(kept.size, 0);
  });

  test('past its byte limit the oldest pages go first', () => {
    const text = rendered(records);
    const kept = new KeptListPages(Buffer.byteLength(text) * 2);
    for (const key of ['a', 'b', 'c']) kept.keep(key, page, text, last);
    assert.equal(kept.size, 2);
    assert.equal(kept.answer('a', page, last), undefined);
    assert.ok(kept.answer('c', page, last));
  });
});
