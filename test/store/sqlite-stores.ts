// SQLite stores for a test file: each in a data directory of its own, all under one scratch directory
// removed once the file's tests are done.
import { after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../../src/store/index.js';

export type WithStore = (run: (store: Store, dataDir: string) => Promise<void>) => Promise<void>;

/** Runs `run` with a new store (and its data directory), closing the store afterwards. */
export function sqliteStores(prefix: string): WithStore {
  const root = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(root, { recursive: true, force: true }));
  return async (run) => {
    const dataDir = mkdtempSync(join(root, 'data-'));
    const store = await openStore({ dataDir });
    try {
      await run(store, dataDir);
    } finally {
      await store.close();
    }
  };
}
