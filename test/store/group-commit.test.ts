// SQLite transactions that queue while one runs share its commit (src/store/group-commit.ts). Each
// must still be all-or-nothing on its own, and must be committed (visible to another connection)
// by the time its caller hears it succeeded.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import fc from 'fast-check';
import { openStore } from '../../src/store/index.js';
import { workspace } from './fixtures.js';

const tempRoot = mkdtempSync(join(tmpdir(), 'wsm-group-commit-test-'));
after(() => rmSync(tempRoot, { recursive: true, force: true }));

test('concurrent transactions: each lands whole or not at all, and is on disk when its caller hears so', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.record({ rows: fc.integer({ min: 1, max: 3 }), fails: fc.boolean() }), { minLength: 1, maxLength: 25 }), async (plans) => {
      const dataDir = mkdtempSync(join(tempRoot, 'data-'));
      const store = await openStore({ dataDir });
      const other = new BetterSqlite3(join(dataDir, 'wsm.sqlite'), { readonly: true });
      try {
        const count = other.prepare('select count(*) as n from workspaces where name like ?');
        const outcomes = await Promise.all(
          plans.map((plan, i) =>
            store
              .transaction(async (tx) => {
                for (let r = 0; r < plan.rows; r++) await tx.insertWorkspace(workspace(`t${i}-${r}`));
                if (plan.fails) throw new Error(`transaction ${i} fails`);
                return i;
              })
              .then(
                (value) => {
                  // Answered: another connection already sees every row of it.
                  assert.equal((count.get(`t${i}-%`) as { n: number }).n, plan.rows, `transaction ${i} answered before its commit`);
                  return { ok: true as const, value };
                },
                (error: Error) => ({ ok: false as const, error }),
              ),
          ),
        );
        plans.forEach((plan, i) => {
          const outcome = outcomes[i]!;
          if (plan.fails) {
            assert.equal(outcome.ok, false);
            assert.match((outcome as { error: Error }).error.message, new RegExp(`transaction ${i} fails`));
          } else {
            assert.deepEqual(outcome, { ok: true, value: i });
          }
          const expected = plan.fails ? 0 : plan.rows;
          assert.equal((count.get(`t${i}-%`) as { n: number }).n, expected, `rows of transaction ${i}`);
        });
      } finally {
        other.close();
        await store.close();
        rmSync(dataDir, { recursive: true, force: true });
      }
    }),
    { numRuns: 25 },
  );
});

test('a failing statement inside a grouped transaction (a conflict) fails that transaction only', async () => {
  const dataDir = mkdtempSync(join(tempRoot, 'data-'));
  const store = await openStore({ dataDir });
  try {
    await store.insertWorkspace(workspace('taken'));
    const [first, clash, last] = await Promise.allSettled([
      store.transaction((tx) => tx.insertWorkspace(workspace('a1'))),
      store.transaction(async (tx) => {
        await tx.insertWorkspace(workspace('a2'));
        await tx.insertWorkspace(workspace('taken'));
      }),
      store.transaction((tx) => tx.insertWorkspace(workspace('a3'))),
    ]);
    assert.equal(first.status, 'fulfilled');
    assert.equal(clash.status, 'rejected');
    assert.equal(last.status, 'fulfilled');
    assert.ok(await store.getWorkspace('a1'));
    assert.equal(await store.getWorkspace('a2'), undefined, 'the failed transaction left nothing');
    assert.ok(await store.getWorkspace('a3'));
  } finally {
    await store.close();
  }
});
