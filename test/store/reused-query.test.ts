// reusedQuery: compiled once, each run binds its own arguments wherever the builder put them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kysely, sql } from 'kysely';
import type { Database } from '../../src/store/schema.js';
import { openSqlite } from '../../src/store/sqlite.js';
import { reusedQuery } from '../../src/store/reused-query.js';

async function withDb(fn: (db: Kysely<Database>) => Promise<void>): Promise<void> {
  const db = new Kysely<Database>({ dialect: openSqlite(':memory:') });
  try {
    await sql`create table grants (token_id text, workspace text, role text)`.execute(db);
    await sql`insert into grants values ('t1', 'a', 'viewer'), ('t1', 'b', 'editor'), ('t2', 'a', 'owner')`.execute(db);
    await fn(db);
  } finally {
    await db.destroy();
  }
}

test('each run answers for its own arguments, one used twice and in another order than given', () =>
  withDb(async (db) => {
    const query = reusedQuery((qb, role: string, token: string) =>
      qb.selectFrom('grants').select('workspace').where('token_id', '=', token).where((eb) => eb.or([eb('role', '=', role), eb('workspace', '=', sql<string>`${role}`)])).orderBy('workspace'),
    );
    const names = async (role: string, token: string) => (await query(db, 'sqlite', role, token)).rows.map((r) => r.workspace);
    assert.deepEqual(await names('viewer', 't1'), ['a']);
    assert.deepEqual(await names('editor', 't1'), ['b']);
    assert.deepEqual(await names('owner', 't2'), ['a']);
    assert.deepEqual(await names('b', 't1'), ['b']);
  }));

test('an argument not bound as one plain value, or undefined, is refused', () =>
  withDb(async (db) => {
    const literal = reusedQuery((qb, token: string) => qb.selectFrom('grants').select('workspace').where('token_id', '=', sql.lit(String(token))));
    await assert.rejects(literal(db, 'sqlite', 't1'), /not bound as plain values/);
    const plain = reusedQuery((qb, token: string) => qb.selectFrom('grants').select('workspace').where('token_id', '=', token));
    await assert.rejects(plain(db, 'sqlite', undefined as unknown as string), /undefined/);
  }));
