// What keeps local workspaces away from the control plane's secrets: the users they run as, and the
// modes of the data dir and the store files. Workspaces are processes on this machine, so the only wall
// between them and the store, the server's environment (its tokens) and each other is the OS user.
import { chmod, open, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { UidRange } from '../runtimes/local/users.js';
import type { ServeConfig } from './config.js';

export interface LocalIsolation {
  /** The uids local workspaces run as, one each; absent when wsm cannot switch users. */
  uidRange?: UidRange;
  /** Said at start-up: what an operator must know about this set-up. */
  warnings: string[];
}

/**
 * Only root can start processes as other users. Without that, every local workspace runs as wsm's own
 * user and could read whatever wsm can: the runtime is then single-tenant, and start-up says so.
 */
export async function localIsolation(config: ServeConfig, serverUid: number): Promise<LocalIsolation> {
  if (serverUid !== 0) {
    return {
      warnings: [
        `wsm runs as uid ${serverUid}, not root, so local workspaces run as this same user: their code can read the store, ` +
          `this server's environment (WSM_ADMIN_TOKEN) and each other's files. The local runtime is single-tenant here: ` +
          `give local workspaces only to people trusted with the whole server, or run wsm as root so that each local ` +
          `workspace gets a user of its own (WSM_LOCAL_UID_RANGE).`,
      ],
    };
  }
  const warnings: string[] = [];
  const closed = await firstClosedAncestor(config.dataDir);
  if (closed) {
    warnings.push(
      `${closed} cannot be entered by other users (it lacks o+x), so local workspaces, which run as users of their own, ` +
        `cannot reach their home directories under ${config.dataDir} by path; choose a data dir such as /var/lib/wsm, or chmod o+x ${closed}.`,
    );
  }
  return { uidRange: config.localUidRange, warnings };
}

/** The nearest directory above `dir` that other users cannot pass through, if any. */
async function firstClosedAncestor(dir: string): Promise<string | undefined> {
  for (let d = dirname(dir); ; d = dirname(d)) {
    const mode = await stat(d).then((s) => s.mode, () => undefined);
    if (mode !== undefined && (mode & 0o001) === 0) return d;
    if (d === dirname(d)) return undefined;
  }
}

/** Where SQLite keeps the store, with its write-ahead log and shared-memory index beside it. */
export function sqliteFiles(dataDir: string): { path: string; all: string[] } {
  const path = join(dataDir, 'wsm.sqlite');
  return { path, all: [path, `${path}-wal`, `${path}-shm`] };
}

/**
 * The data dir is wsm's alone: 0700, or 0711 when workspaces of other users must pass through it to
 * their homes (they still cannot list it). The store files are 0600; the main file is created empty
 * with that mode before SQLite opens it, so it is never readable by others, even for a moment (SQLite
 * gives its -wal and -shm files the mode of the main file). The hooks dir is closed when it is wsm's
 * own (under the data dir): the runtimes copy each script to where the workspace runs it.
 */
export async function protectDataDir(config: ServeConfig, workspacesPassThrough: boolean): Promise<void> {
  await chmod(config.dataDir, workspacesPassThrough ? 0o711 : 0o700);
  const hooksInside = !relative(config.dataDir, config.hooksDir).startsWith('..');
  if (hooksInside && config.hooksDir !== config.dataDir) await chmod(config.hooksDir, 0o700);
  if (config.databaseUrl) return;
  const { path, all } = sqliteFiles(config.dataDir);
  await (await open(path, 'a', 0o600)).close();
  await protectStoreFiles(all);
}

export async function protectStoreFiles(files: string[]): Promise<void> {
  for (const file of files) {
    await chmod(file, 0o600).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }
}
