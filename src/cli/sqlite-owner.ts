// One process per SQLite file: `wsm serve` leads alone on SQLite (it has no lease to share), so a
// second process on the same data dir would drive the same workspaces twice. The first writes its pid
// next to the file; another finds that pid alive and serving, and refuses to start. A file left by a
// process that died (or by an earlier run of this pid, as pid 1 in a container restarted) is taken over.
import { open, readFile, unlink } from 'node:fs/promises';
import { readFileSync } from 'node:fs';

export class SqliteInUseError extends Error {}

function servingPid(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // A live pid that is not a `wsm serve` (the id was reused since) holds nothing.
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('serve');
  } catch {
    return true; // no /proc: believe the pid
  }
}

/** Claims the SQLite file for this process; resolves to what gives it up, or throws SqliteInUseError. */
export async function claimSqliteFile(sqlitePath: string): Promise<() => Promise<void>> {
  const ownerPath = `${sqlitePath}.owner`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(ownerPath, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return async () => {
        const current = await readFile(ownerPath, 'utf8').catch(() => '');
        if (Number(current.trim()) === process.pid) await unlink(ownerPath).catch(() => {});
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = Number((await readFile(ownerPath, 'utf8').catch(() => '')).trim());
    if (servingPid(pid)) {
      throw new SqliteInUseError(
        `the SQLite store ${sqlitePath} is in use by another wsm serve (pid ${pid}); SQLite allows one process: stop it, use another --data-dir, or use PostgreSQL (--database-url) for several replicas`,
      );
    }
    await unlink(ownerPath).catch(() => {});
  }
  throw new SqliteInUseError(`could not claim the SQLite store ${sqlitePath}: another process keeps claiming it`);
}
