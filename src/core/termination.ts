// How an instance's end is told the same way on every runtime: the signal behind a 128+n exit
// code, and one sentence for the status message.
import type { Termination } from './types.js';

const SIGNALS: Record<number, string> = { 1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 6: 'SIGABRT', 9: 'SIGKILL', 11: 'SIGSEGV', 13: 'SIGPIPE', 15: 'SIGTERM' };

/** Shells and container engines report death by signal n as exit code 128 + n. */
export function signalOfExitCode(code: number | undefined): string | undefined {
  if (code === undefined || code <= 128 || code > 128 + 64) return undefined;
  return SIGNALS[code - 128] ?? `signal ${code - 128}`;
}

/** A termination from an exit code (and what else the engine knows). */
export function terminationOf(fields: { exit_code?: number; oom_killed?: boolean; finished_at: string; log_tail?: string; reason?: string }): Termination {
  const signal = signalOfExitCode(fields.exit_code);
  const oom = Boolean(fields.oom_killed);
  const reason = fields.reason ?? (oom ? 'OOMKilled' : signal ? 'Killed' : 'Exited');
  return {
    reason,
    ...(fields.exit_code !== undefined ? { exit_code: fields.exit_code } : {}),
    ...(signal ? { signal } : {}),
    oom_killed: oom,
    finished_at: fields.finished_at,
    ...(fields.log_tail ? { log_tail: fields.log_tail } : {}),
  };
}

/** "exited with code 137 (SIGKILL)", "was killed: out of memory", "was removed". */
export function describeTermination(t: Termination): string {
  if (t.reason === 'Missing') return 'was removed';
  const code = t.exit_code === undefined ? 'exited (exit code unknown)' : `exited with code ${t.exit_code}${t.signal ? ` (${t.signal})` : ''}`;
  return t.oom_killed ? `${code}: out of memory` : code;
}
