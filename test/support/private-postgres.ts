// A PostgreSQL server of the test's own (made by scripts/ci/start-postgres.sh in a temporary directory,
// on a free port), for tests that stop or restart the database: the shared one serves other tests.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../e2e/ha/cluster.js';

const run = promisify(execFile);

export interface PrivatePostgres {
  url: string;
  /** Stops the server at once (fast shutdown: every connection is cut). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it and removes its data. */
  destroy(): Promise<void>;
}

async function pgCtl(): Promise<string> {
  const versions = (await readdir('/usr/lib/postgresql')).sort((a, b) => Number(b) - Number(a));
  return join('/usr/lib/postgresql', versions[0]!, 'bin', 'pg_ctl');
}

export async function privatePostgres(): Promise<PrivatePostgres> {
  const dir = await mkdtemp(join(tmpdir(), 'wsm-private-pg-'));
  const dataDir = join(dir, 'data');
  const env = { ...process.env, WSM_PG_PORT: String(await freePort()), WSM_PG_DATA_DIR: dataDir };
  const start = async () => {
    const { stdout } = await run('bash', ['scripts/ci/start-postgres.sh'], { env });
    return /WSM_TEST_DATABASE_URL=(\S+)/.exec(stdout)![1]!;
  };
  const url = await start();
  // The server refuses to run as root: the script runs it as the postgres user, and so must pg_ctl.
  const asServer = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
  const stop = async (mode: 'fast' | 'immediate') => {
    const [cmd, ...args] = [...asServer, await pgCtl(), '-D', dataDir, '-m', mode, '-w', 'stop'];
    await run(cmd!, args);
  };
  return {
    url,
    stop: () => stop('fast'),
    start: async () => void (await start()),
    destroy: async () => {
      await stop('immediate').catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}
