// The whole API on the PostgreSQL store: the same server, only --database-url differs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { eventually, localContainerConfig, startTestServer, type TestServer } from '../support/server.js';
import { postgresTestUrl } from '../store/postgres-url.js';

// Skipped on a developer's machine without PostgreSQL; a failure in CI.
const baseUrl = postgresTestUrl('the whole API on the PostgreSQL store');
const skip = baseUrl === undefined;
const database = `wsm_api_${process.pid}_${Date.now()}`;
let srv: TestServer | undefined;

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: baseUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

describe('the API on PostgreSQL', { skip }, () => {
  before(async () => {
    await admin((c) => c.query(`CREATE DATABASE ${database}`));
    const url = new URL(baseUrl!);
    url.pathname = `/${database}`;
    srv = await startTestServer({ env: { WSM_DATABASE_URL: url.toString() } });
  });
  after(async () => {
    await srv?.close();
    await admin((c) => c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
  });

  test('create, stop, resume, patch and delete keep their state in PostgreSQL', async () => {
    const created = await srv!.request('POST', '/api/workspaces', { body: { workspace: { name: 'pg-ws', container_config: localContainerConfig() } } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await eventually(async () => (await srv!.request('GET', '/api/workspaces/pg-ws')).body.workspace.instance.status === 'RUNNING');
    const stop = await srv!.request('PUT', '/api/workspaces/pg-ws', { body: { workspace: { action: 'stop' } } });
    assert.equal(stop.body.workspace.instance.status, 'STOPPED');
    const resume = await srv!.request('PUT', '/api/workspaces/pg-ws', { body: { workspace: { action: 'resume' } } });
    assert.equal(resume.body.workspace.instance.status, 'RUNNING');
    const patch = await srv!.request('PUT', '/api/workspaces/pg-ws', { body: { workspace: { action: 'patch', container_config: 'env:\n  - name: IN_PG\n    value: "yes"' } } });
    assert.equal(patch.status, 200);
    assert.equal(patch.body.workspace.generation, 2);
    const rows = await admin(async (c) => {
      await c.query(`SELECT 1`);
      const other = new pg.Client({ connectionString: baseUrl!.replace(/\/[^/]*$/, `/${database}`) });
      await other.connect();
      try {
        return (await other.query(`SELECT name, generation, desired_state FROM workspaces WHERE name = 'pg-ws'`)).rows;
      } finally {
        await other.end();
      }
    });
    assert.deepEqual(rows, [{ name: 'pg-ws', generation: 2, desired_state: 'running' }]);
    const audit = await srv!.request('GET', '/api/audit?workspace=pg-ws');
    assert.deepEqual(audit.body.events.map((e: { action: string }) => e.action).reverse(), ['create', 'stop', 'resume', 'patch']);
  });
});
