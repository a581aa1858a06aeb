// A control plane killed after it started a workspace's process group but before it wrote the group to
// state.json leaves a group no state names: the next control plane would start another beside it. The
// launch wrapper's arguments name its workspace (its exit-code file), so such groups can be found.
import { readFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { listedPids, readProcStat } from './procfs.js';

export interface Launcher {
  /** The workspace whose directory the wrapper's exit-code file is in. */
  name: string;
  /** The wrapper's pid, which is its group's id (it leads the group). */
  pid: number;
  startTicks: string;
}

/** The live launch wrappers (group leaders) of workspaces under `rootDir`. */
export function launchersUnder(rootDir: string): Launcher[] {
  const prefix = join(rootDir) + sep;
  const suffix = `${sep}${join('run', 'exit_code')}`;
  const found: Launcher[] = [];
  for (const pid of listedPids()) {
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    // /bin/sh -c <wrapper> wsm-launch <exit-code file> ... (launch.ts)
    const exitCodePath = argv[4];
    if (argv[3] !== 'wsm-launch' || !exitCodePath?.startsWith(prefix) || !exitCodePath.endsWith(suffix)) continue;
    const name = exitCodePath.slice(prefix.length, -suffix.length);
    const stat = readProcStat(pid);
    if (name === '' || name.includes(sep) || !stat || stat.pgrp !== stat.pid || stat.state === 'Z') continue;
    found.push({ name, pid: stat.pid, startTicks: stat.startTicks });
  }
  return found;
}
