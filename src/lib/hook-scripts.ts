// Lifecycle scripts live in the control plane's hooks directory. A path is accepted only when it
// stays inside that directory after resolving `..` and symlinks, so a workspace can never be
// handed an arbitrary file of the control plane's host.
import { readFile, realpath, stat } from 'node:fs/promises';
import { join, relative, isAbsolute, sep } from 'node:path';
import { resolveHookPathLexically } from '../core/hook-paths.js';
import type { HookScript } from '../core/runtime.js';
import type { LifecycleConfig } from '../core/types.js';

export type HookPathCheck = { ok: true; relative: string } | { ok: false; message: string };

export async function checkHookPath(hooksDir: string, path: string): Promise<HookPathCheck> {
  const lexical = resolveHookPathLexically(hooksDir, path);
  if ('error' in lexical) return { ok: false, message: lexical.error };
  let root: string;
  try {
    root = await realpath(hooksDir);
  } catch {
    return { ok: false, message: `the hooks directory ${hooksDir} does not exist on the control plane` };
  }
  let real: string;
  try {
    real = await realpath(join(root, lexical.relative));
  } catch {
    return { ok: false, message: `no script ${lexical.relative} exists in the hooks directory` };
  }
  const rel = relative(root, real);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel) || rel.split(sep).includes('..')) {
    return { ok: false, message: 'the path resolves outside the hooks directory (through a symlink)' };
  }
  const info = await stat(real);
  if (!info.isFile()) return { ok: false, message: `${lexical.relative} is not a file` };
  return { ok: true, relative: lexical.relative };
}

async function loadOne(hooksDir: string, path: string | undefined): Promise<HookScript | undefined> {
  if (!path) return undefined;
  const check = await checkHookPath(hooksDir, path);
  if (!check.ok) throw new Error(`lifecycle script ${path}: ${check.message}`);
  return { path: check.relative, content: await readFile(join(hooksDir, check.relative)) };
}

/** Reads the scripts a lifecycle config names, checking each path again (the file may have changed). */
export async function loadHookScripts(
  hooksDir: string,
  lifecycle: LifecycleConfig,
): Promise<{ pre_start?: HookScript; post_start?: HookScript; pre_stop?: HookScript }> {
  return {
    pre_start: await loadOne(hooksDir, lifecycle.pre_start_script_path),
    post_start: await loadOne(hooksDir, lifecycle.post_start?.hook_path),
    pre_stop: await loadOne(hooksDir, lifecycle.pre_stop?.hook_path),
  };
}
