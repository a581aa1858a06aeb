// The scheduler's pass reads only the workspaces that have a schedule, however many others there are:
// a real SQLite store with 300 workspaces, 3 of them scheduled, and a count of the records the pass got.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/store.js';
import type { WorkspaceRecord } from '../../src/core/types.js';
import { Scheduler } from '../../src/controller/scheduler.js';
import { workspace } from '../store/fixtures.js';

/** The store, counting the workspace records its list reads hand out. */
function counting(store: Store): { store: Store; read: () => number } {
  let read = 0;
  const wrapped = new Proxy(store, {
    get(target, key) {
      const member = Reflect.get(target, key, target) as unknown;
      if (typeof member !== 'function') return member;
      const call = (member as (...args: unknown[]) => Promise<unknown>).bind(target);
      if (!String(key).startsWith('list')) return call;
      return async (...args: unknown[]) => {
        const page = await call(...args);
        read += (page as { workspaces?: WorkspaceRecord[] }).workspaces?.length ?? 0;
        return page;
      };
    },
  });
  return { store: wrapped, read: () => read };
}

test('a schedule pass reads the 3 scheduled workspaces of 300, not every one', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'wsm-scheduler-reads-'));
  const store = await openStore({ dataDir });
  try {
    const schedule = { autostop: '0 19 * * *', timezone: 'UTC' };
    await store.transaction(async (tx) => {
      for (let i = 0; i < 300; i++) {
        const ws = workspace(`ws-${String(i).padStart(3, '0')}`, { uid: `uid-${i}` });
        if (i % 100 === 42) ws.spec.lifecycle = { ...ws.spec.lifecycle, schedule };
        await tx.insertWorkspace(ws);
      }
    });
    const seen: string[] = [];
    const actor = { scheduled: async (name: string) => void seen.push(name) };
    const { store: watched, read } = counting(store);
    const scheduler = new Scheduler(watched, actor, pino({ level: 'silent' }), { periodMs: 20_000, pageSize: 2 });
    await scheduler.pass();
    assert.deepEqual(seen, ['ws-042', 'ws-142', 'ws-242']);
    assert.equal(read(), 3, 'only the scheduled workspaces were read');
  } finally {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
