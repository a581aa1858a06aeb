// The checkpoint worker copies the write-ahead log into the database file once the log is longer than
// its threshold, so the log starts afresh instead of growing, also while writes never pause (it asks
// the store for a quiet moment); and the store's close waits for it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStore } from '../../src/store/index.js';
import { workspace } from './fixtures.js';

const tempRoot = mkdtempSync(join(tmpdir(), 'wsm-checkpoint-test-'));
after(() => rmSync(tempRoot, { recursive: true, force: true }));

/** mxFrame of the wal-index header: how many frames the log holds now. */
function logFrames(dbFile: string): number {
  return readFileSync(`${dbFile}-shm`).readUInt32LE(16);
}

/** nBackfill, after the header's two copies: how many of them a checkpoint has copied into the database. */
function copiedFrames(dbFile: string): number {
  return readFileSync(`${dbFile}-shm`).readUInt32LE(96);
}

test('a long log is checkpointed into the database file in the background, and closing removes nothing it needs', async () => {
  const dataDir = mkdtempSync(join(tempRoot, 'data-'));
  const dbFile = join(dataDir, 'wsm.sqlite');
  const store = await openStore({ dataDir });
  const before = statSync(dbFile).size;
  const padding = 'x'.repeat(3000);
  // Each workspace in its own commit: about a thousand frames, well past the worker's threshold.
  for (let i = 0; i < 400; i++) {
    await store.insertWorkspace(workspace(`ws-${i}`, { project_uuid: `${padding}${i}` }));
  }
  assert.ok(logFrames(dbFile) > 256, `the log holds ${logFrames(dbFile)} frames before the worker runs`);
  // Copied in the background, possibly in more than one checkpoint (the first may begin mid-loop).
  for (let waited = 0; copiedFrames(dbFile) < logFrames(dbFile) && waited < 10_000; waited += 100) await sleep(100);
  assert.equal(copiedFrames(dbFile), logFrames(dbFile), 'every frame of the log was copied');
  const grown = statSync(dbFile).size;
  assert.ok(grown > before + 400 * 3000, `the database file grew from ${before} to ${grown} bytes`);
  // The next write starts the log afresh.
  await store.insertWorkspace(workspace('after-checkpoint'));
  assert.ok(logFrames(dbFile) < 50, `the log holds ${logFrames(dbFile)} frames after restarting`);
  await store.close();

  const reopened = await openStore({ dataDir });
  try {
    assert.equal((await reopened.listWorkspaces({ limit: 1, offset: 0 })).total, 401);
  } finally {
    await reopened.close();
  }
  rmSync(dataDir, { recursive: true });
});

test('under writes that never pause, the worker gets quiet moments in which it copies the rest of the log', async () => {
  const dataDir = mkdtempSync(join(tempRoot, 'data-'));
  const dbFile = join(dataDir, 'wsm.sqlite');
  const restartFrames = 256;
  const quietMoments: number[] = [];
  const store = await openStore({ dataDir, wal: { tuning: { intervalMs: 10, checkpointFrames: 64, restartFrames }, onQuietMoment: (ms) => quietMoments.push(ms) } });
  try {
    let restarts = 0;
    let previous = logFrames(dbFile);
    const until = Date.now() + 10_000;
    // Twenty writers, as a busy server has requests in flight: one commit follows another, so a
    // checkpoint running beside them never finds the whole log copied.
    const writer = async (first: number) => {
      for (let i = first; Date.now() < until && quietMoments.length < 3; i += 20) {
        await store.transaction(async (tx) => {
          for (let j = 0; j < 4; j++) await tx.insertWorkspace(workspace(`new-${i}-${j}`, { project_uuid: 'z'.repeat(3000) }));
        });
        const frames = logFrames(dbFile);
        if (frames < previous) restarts++;
        previous = frames;
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    await Promise.all(Array.from({ length: 20 }, (_, i) => writer(i)));
    assert.ok(quietMoments.length >= 1, 'the store held its connection for the worker');
    assert.ok(quietMoments.every((ms) => ms < 2_000), `quiet moments lasted ${quietMoments.map((ms) => ms.toFixed(1)).join(', ')} ms`);
    assert.ok(restarts >= 1, 'the log started afresh while the writers ran');
  } finally {
    await store.close();
  }
  rmSync(dataDir, { recursive: true });
});
