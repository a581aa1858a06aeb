// Process and process-group facts read from Linux /proc. A pid alone is not an identity (pids are
// reused), so a process is named by its pid plus the start time the kernel recorded for it.
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcStat {
  pid: number;
  /** One letter: R, S, D, Z (zombie), X (dead), T, ... */
  state: string;
  ppid: number;
  pgrp: number;
  /** Clock ticks since boot when the process started: stable for its lifetime, unique with the pid. */
  startTicks: string;
}

export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses, so fields are counted from the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  if (fields.length < 20) return undefined;
  return {
    pid,
    state: fields[0]!,
    ppid: Number(fields[1]),
    pgrp: Number(fields[2]),
    startTicks: fields[19]!,
  };
}

function isLiveState(state: string): boolean {
  return state !== 'Z' && state !== 'X' && state !== 'x';
}

/** True when `pid` is the very process that started at `startTicks` and it has not exited. */
export function isSameProcessAlive(pid: number | undefined, startTicks: string | undefined): boolean {
  if (!pid || !startTicks) return false;
  const stat = readProcStat(pid);
  return stat !== undefined && isLiveState(stat.state) && stat.startTicks === startTicks;
}

/** The pids /proc lists now (any of them may end while it is read). */
export function listedPids(): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const entry of entries) {
    const c = entry.charCodeAt(0);
    if (c >= 48 && c <= 57) pids.push(Number(entry));
  }
  return pids;
}

/** Live (non-zombie) members of a process group. */
export function groupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const pid of listedPids()) {
    const stat = readProcStat(pid);
    if (stat && stat.pgrp === pgid && isLiveState(stat.state)) members.push(stat.pid);
  }
  return members;
}

/**
 * Whether the group `pgid` can still be the one we started. A new group with the same id needs a new
 * leader whose pid equals it, so a live leader with another start time means the id was reused.
 * With no leader, the remaining members are the leftovers of ours (the id cannot be reused while they live).
 */
export function groupIsOurs(pgid: number, leaderStartTicks: string | undefined): boolean {
  const leader = readProcStat(pgid);
  if (!leader || !isLiveState(leader.state)) return true;
  return leader.startTicks === leaderStartTicks;
}

export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * Checks until `check` holds or `timeoutMs` passed: first after 2 ms, the wait doubling up to
 * `maxIntervalMs` (most programs end within milliseconds of SIGTERM; a fixed 100 ms made every stop
 * take at least that long).
 */
export async function waitUntil(check: () => boolean, timeoutMs: number, maxIntervalMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let intervalMs = 2; ; intervalMs = Math.min(intervalMs * 2, maxIntervalMs)) {
    if (check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * SIGTERM to the whole group, SIGKILL to whatever is left after `graceMs`. Resolves once no live member
 * remains; throws if even SIGKILL did not empty the group (e.g. a process stuck in the kernel).
 */
export async function stopGroup(pgid: number, leaderStartTicks: string | undefined, graceMs: number): Promise<void> {
  if (!groupIsOurs(pgid, leaderStartTicks)) return;
  const empty = () => groupMembers(pgid).length === 0;
  if (empty()) return;
  signalGroup(pgid, 'SIGTERM');
  if (await waitUntil(empty, graceMs)) return;
  signalGroup(pgid, 'SIGKILL');
  if (await waitUntil(empty, 10_000)) return;
  throw new Error(`process group ${pgid} is still alive after SIGKILL (members ${groupMembers(pgid).join(', ')})`);
}

/** Linux's USER_HZ: /proc reports CPU times in these ticks (100 on every mainstream platform). */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU time used by a process group: its live members' own time plus that of children they have
 * waited for, in seconds. Counters of members that exited without being waited for are lost, so the
 * figure can drop; callers compare samples and ignore a drop.
 */
export function groupCpuSeconds(pgid: number): number {
  let ticks = 0;
  for (const pid of groupMembers(pgid)) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue;
    }
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // utime, stime, cutime, cstime: fields 14 to 17 of proc(5), counted here from field 3.
    for (let i = 11; i <= 14; i++) ticks += Number(fields[i]) || 0;
  }
  return ticks / CLOCK_TICKS_PER_SECOND;
}
