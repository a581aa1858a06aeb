// The processes of local workspaces as the host sees them, for tests that kill wsm (and the
// workspaces behind its back) and check what runs afterwards: the state file the local runtime keeps
// per workspace, whether a process group lives, and a cleanup that leaves nothing running.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The local runtime's state file of a workspace (status, pid, pgid, …). */
export async function localState(dataDir: string, name: string): Promise<any> {
  return JSON.parse(await readFile(join(dataDir, 'workspaces', name, 'state.json'), 'utf8'));
}

export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGKILLs the process group of each workspace that still has one (after a test; never throws). */
export async function killLocalInstances(dataDir: string, names: readonly string[]): Promise<void> {
  for (const name of names) {
    const pgid = await localState(dataDir, name).then((s) => s.pgid as number | undefined, () => undefined);
    if (pgid && groupAlive(pgid)) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
  }
}
