// Which user each local workspace runs as, when the control plane can switch users (it runs as root).
// Every workspace gets a uid of its own from a configured range, and the gid of the same number, with no
// supplementary groups: a workspace can read neither the control plane's files nor another workspace's.
// The allocation is recorded as the owner of the workspace's home directory, so it survives restarts of
// the control plane, and a home kept after a remove keeps its uid when the name is created again.
import { spawn } from 'node:child_process';
import { lchown, lstat, readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface UidRange {
  first: number;
  last: number;
}

export interface Owner {
  uid: number;
  gid: number;
}

const NAME_RE = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

export class UidAllocator {
  private byName: Map<string, number> | undefined;
  private loading: Promise<Map<string, number>> | undefined;

  constructor(
    private readonly rootDir: string,
    readonly range: UidRange,
  ) {}

  /**
   * The owner `name` runs as: the owner of its home when that uid is in the range and no other
   * workspace's, else the lowest uid nobody here holds (the caller then hands the home over to it).
   */
  async ownerFor(name: string): Promise<Owner> {
    const byName = await this.load();
    let uid = byName.get(name);
    if (uid === undefined) {
      const taken = new Set(byName.values());
      for (let candidate = this.range.first; candidate <= this.range.last; candidate++) {
        if (!taken.has(candidate)) {
          uid = candidate;
          break;
        }
      }
      if (uid === undefined) {
        throw new Error(`Every uid of WSM_LOCAL_UID_RANGE (${this.range.first}-${this.range.last}) is held by a local workspace; widen the range.`);
      }
      byName.set(name, uid);
    }
    return { uid, gid: uid };
  }

  /** The workspace's home is gone: its uid may go to another workspace. */
  release(name: string): void {
    this.byName?.delete(name);
  }

  private load(): Promise<Map<string, number>> {
    if (this.byName) return Promise.resolve(this.byName);
    // One scan, shared by concurrent callers; after it, allocation is synchronous and cannot race.
    this.loading ??= this.scan().then((map) => (this.byName = map));
    return this.loading;
  }

  private async scan(): Promise<Map<string, number>> {
    const map = new Map<string, number>();
    const held = new Set<number>();
    let entries: string[];
    try {
      entries = (await readdir(this.rootDir)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return map;
      throw err;
    }
    for (const name of entries) {
      if (!NAME_RE.test(name)) continue;
      const home = await lstat(join(this.rootDir, name, 'home')).catch(() => undefined);
      if (!home?.isDirectory() || home.uid < this.range.first || home.uid > this.range.last) continue;
      // Two homes with one owner (copied by hand, say): the first keeps it, the other gets a new uid.
      if (held.has(home.uid)) continue;
      held.add(home.uid);
      map.set(name, home.uid);
    }
    return map;
  }
}

/**
 * Hands a directory tree to `owner`, never following a symbolic link (the link itself changes owner).
 * A file with more than one hard link is skipped: the tree's former user could have linked a file from
 * elsewhere, and that file must not change hands.
 */
export async function chownTree(path: string, owner: Owner): Promise<void> {
  const info = await lstat(path);
  if (!info.isDirectory() && info.nlink > 1) return;
  await lchown(path, owner.uid, owner.gid);
  if (!info.isDirectory()) return;
  for (const entry of await readdir(path)) await chownTree(join(path, entry), owner);
}

/**
 * Deletes a directory a workspace's user may write to. Done by us (root), a recursive delete could be
 * led elsewhere by a process of that user that swaps a directory for a link while the delete walks it,
 * and delete as root wherever the link points. So what is inside is deleted as the directory's owner,
 * who can delete nothing it could not delete anyway; we then remove the empty directory itself (its
 * parent is ours). What the owner cannot delete (it made it so) stays, and the error says where.
 */
export async function removeTree(path: string): Promise<void> {
  const info = await lstat(path).catch(() => undefined);
  if (!info) return;
  if (!info.isDirectory() || info.uid === process.getuid?.()) {
    await rm(path, { recursive: true, force: true });
    return;
  }
  const stderr = await emptyAs({ uid: info.uid, gid: info.gid }, path);
  try {
    await rmdir(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    const why = stderr.trim().split('\n').slice(0, 3).join('; ') || (err as Error).message;
    throw new Error(`${path} could not be emptied by its owner (uid ${info.uid}): ${why}; delete what is left by hand.`);
  }
}

/** Deletes everything in `dir` as `owner`, from inside it (entered before the switch, so the path above need not be open to it). */
function emptyAs(owner: Owner, dir: string): Promise<string> {
  const script = [
    'const fs = require("node:fs");',
    'for (const e of fs.readdirSync(".")) { try { fs.rmSync(e, { recursive: true, force: true }); } catch (err) { console.error(err.message); } }',
  ].join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { cwd: dir, env: {}, stdio: ['ignore', 'ignore', 'pipe'], uid: owner.uid, gid: owner.gid });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
    child.once('error', reject);
    child.once('close', () => resolve(stderr));
  });
}
