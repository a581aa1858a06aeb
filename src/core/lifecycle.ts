// lifecycle_config: idle termination and the pre-start / post-start hooks, checked and merged.
import type { FieldError } from './errors.js';
import type { LifecycleConfig, PostStartConfig, PreStopConfig, ScheduleConfig, TerminationPolicy } from './types.js';
import { isTimeZone, nextFire, parseCron } from './cron.js';
import { Checker, describe, indexPath, isPlainObject, keyPath } from './checker.js';
import { splitShellWords } from './shell-words.js';

export const MAX_IDLE_SECONDS = 31_536_000; // a year
/** A pre-stop may take at most an hour (and in practice the reconcile's deadline: docs/schedules.md). */
export const MAX_PRE_STOP_SECONDS = 3_600;
export const DEFAULT_PRE_STOP_SECONDS = 60;

export const DEFAULT_LIFECYCLE: LifecycleConfig = {
  termination_policy: { enable_auto_termination: false, max_idle_seconds: 0 },
};

/** null for a path or for post_start (or one of its keys) removes it. */
export interface LifecycleConfigPatch {
  termination_policy?: Partial<TerminationPolicy>;
  pre_start_script_path?: string | null;
  post_start?: PostStartPatch | null;
  wake_on_request?: boolean;
  pre_stop?: PreStopPatch | null;
  /** Replaces the whole schedule; null removes it. */
  schedule?: ScheduleConfig | null;
}

export interface PreStopPatch {
  command?: string[] | null;
  hook_path?: string | null;
  timeout_seconds?: number;
}

export interface PostStartPatch {
  command?: string[] | null;
  hook_path?: string | null;
  fail_on_error?: boolean;
  wait_for_port?: boolean;
}

const TOP_KEYS = ['termination_policy', 'pre_start_script_path', 'post_start', 'pre_stop', 'schedule', 'wake_on_request'];
const PRE_STOP_KEYS = ['command', 'hook_path', 'timeout_seconds'];
const SCHEDULE_KEYS = ['autostart', 'autostop', 'timezone'];
const POLICY_KEYS = ['enable_auto_termination', 'max_idle_seconds'];
const POST_START_KEYS = ['command', 'hook_path', 'fail_on_error', 'wait_for_port'];

export function parseLifecycleConfig(input: unknown, field = 'lifecycle_config'): { patch: LifecycleConfigPatch; errors: FieldError[] } {
  const c = new Checker();
  const patch: LifecycleConfigPatch = {};
  if (input === undefined || input === null) return { patch, errors: [] };
  if (!isPlainObject(input)) {
    c.fail(field, `must be an object with ${TOP_KEYS.join(', ')}, not ${describe(input)}.`);
    return { patch, errors: c.errors };
  }
  for (const [key, v] of Object.entries(input)) {
    const at = keyPath(field, key);
    if (key === 'termination_policy') {
      const policy = checkPolicy(v, at, c);
      if (policy) patch.termination_policy = policy;
    } else if (key === 'pre_start_script_path') {
      if (v === null) patch.pre_start_script_path = null;
      else {
        const path = checkPath(v, at, c);
        if (path !== undefined) patch.pre_start_script_path = path;
      }
    } else if (key === 'post_start') {
      if (v === null) patch.post_start = null;
      else {
        const post = checkPostStart(v, at, c);
        if (post) patch.post_start = post;
      }
    } else if (key === 'pre_stop') {
      if (v === null) patch.pre_stop = null;
      else {
        const pre = checkPreStop(v, at, c);
        if (pre) patch.pre_stop = pre;
      }
    } else if (key === 'schedule') {
      if (v === null) patch.schedule = null;
      else {
        const schedule = checkSchedule(v, at, c);
        if (schedule) patch.schedule = schedule;
      }
    } else if (key === 'wake_on_request') {
      if (typeof v === 'boolean') patch.wake_on_request = v;
      else c.fail(at, `must be true or false, not ${describe(v)}.`);
    } else {
      c.fail(at, `is not a lifecycle_config key; the allowed keys are ${TOP_KEYS.join(', ')}.`);
    }
  }
  return { patch, errors: c.errors };
}

function checkPolicy(v: unknown, at: string, c: Checker): Partial<TerminationPolicy> | undefined {
  if (!isPlainObject(v)) {
    c.fail(at, `must be an object with ${POLICY_KEYS.join(' and ')}, not ${describe(v)}.`);
    return undefined;
  }
  const out: Partial<TerminationPolicy> = {};
  for (const [key, raw] of Object.entries(v)) {
    const keyAt = keyPath(at, key);
    if (key === 'enable_auto_termination') {
      if (typeof raw === 'boolean') out.enable_auto_termination = raw;
      else c.fail(keyAt, `must be true or false, not ${describe(raw)}.`);
    } else if (key === 'max_idle_seconds') {
      if (Number.isInteger(raw) && (raw as number) >= 0 && (raw as number) <= MAX_IDLE_SECONDS) out.max_idle_seconds = raw as number;
      else c.fail(keyAt, `must be a whole number of seconds from 0 to ${MAX_IDLE_SECONDS} (a year), not ${describe(raw)}.`);
    } else {
      c.fail(keyAt, `is not allowed in termination_policy; the allowed keys are ${POLICY_KEYS.join(' and ')}.`);
    }
  }
  return out;
}

function checkPath(v: unknown, at: string, c: Checker): string | undefined {
  if (typeof v === 'string' && v !== '' && !v.includes('\0')) return v;
  c.fail(at, `must be the path of a script in the hooks directory (or null to remove it), not ${describe(v)}.`);
  return undefined;
}

/** The keys post_start and pre_stop share (command, hook_path; null removes one): false for any other key. */
function checkHookTarget(key: string, raw: unknown, at: string, out: { command?: string[] | null; hook_path?: string | null }, c: Checker): boolean {
  if (key === 'command') {
    if (raw === null) out.command = null;
    else {
      const words = checkCommandWords(raw, at, c);
      if (words) out.command = words;
    }
    return true;
  }
  if (key === 'hook_path') {
    if (raw === null) out.hook_path = null;
    else {
      const path = checkPath(raw, at, c);
      if (path !== undefined) out.hook_path = path;
    }
    return true;
  }
  return false;
}

function checkPostStart(v: unknown, at: string, c: Checker): PostStartPatch | undefined {
  if (!isPlainObject(v)) {
    c.fail(at, `must be an object with ${POST_START_KEYS.join(', ')} (or null to remove it), not ${describe(v)}.`);
    return undefined;
  }
  const out: PostStartPatch = {};
  for (const [key, raw] of Object.entries(v)) {
    const keyAt = keyPath(at, key);
    if (checkHookTarget(key, raw, keyAt, out, c)) continue;
    if (key === 'fail_on_error' || key === 'wait_for_port') {
      if (typeof raw === 'boolean') out[key] = raw;
      else c.fail(keyAt, `must be true or false, not ${describe(raw)}.`);
    } else {
      c.fail(keyAt, `is not allowed in post_start; the allowed keys are ${POST_START_KEYS.join(', ')}.`);
    }
  }
  return out;
}

function checkPreStop(v: unknown, at: string, c: Checker): PreStopPatch | undefined {
  if (!isPlainObject(v)) {
    c.fail(at, `must be an object with ${PRE_STOP_KEYS.join(', ')} (or null to remove it), not ${describe(v)}.`);
    return undefined;
  }
  const out: PreStopPatch = {};
  for (const [key, raw] of Object.entries(v)) {
    const keyAt = keyPath(at, key);
    if (checkHookTarget(key, raw, keyAt, out, c)) continue;
    if (key === 'timeout_seconds') {
      if (Number.isInteger(raw) && (raw as number) >= 1 && (raw as number) <= MAX_PRE_STOP_SECONDS) out.timeout_seconds = raw as number;
      else c.fail(keyAt, `must be a whole number of seconds from 1 to ${MAX_PRE_STOP_SECONDS}, not ${describe(raw)}.`);
    } else {
      c.fail(keyAt, `is not allowed in pre_stop; the allowed keys are ${PRE_STOP_KEYS.join(', ')}.`);
    }
  }
  return out;
}

/** A whole schedule: at least one of autostart and autostop, each a cron expression that fires, in a known time zone. */
function checkSchedule(v: unknown, at: string, c: Checker): ScheduleConfig | undefined {
  if (!isPlainObject(v)) {
    c.fail(at, `must be an object with ${SCHEDULE_KEYS.join(', ')} (or null to remove it), not ${describe(v)}.`);
    return undefined;
  }
  const before = c.errors.length;
  const out: ScheduleConfig = { timezone: 'UTC' };
  for (const [key, raw] of Object.entries(v)) {
    const keyAt = keyPath(at, key);
    if (key === 'autostart' || key === 'autostop') {
      if (raw === null) continue;
      const cron = parseCron(raw);
      if ('error' in cron) c.fail(keyAt, `${cron.error}.`);
      else if (nextFire(cron, 'UTC', 0) === undefined) c.fail(keyAt, `"${raw as string}" never fires (no such day exists).`);
      else out[key] = (raw as string).trim().split(/\s+/).join(' ');
    } else if (key === 'timezone') {
      if (isTimeZone(raw)) out.timezone = raw;
      else c.fail(keyAt, `must be an IANA time zone such as Europe/Berlin or UTC, not ${describe(raw)}.`);
    } else {
      c.fail(keyAt, `is not allowed in schedule; the allowed keys are ${SCHEDULE_KEYS.join(', ')}.`);
    }
  }
  if (c.errors.length === before && out.autostart === undefined && out.autostop === undefined) {
    c.fail(at, 'must have autostart, autostop or both (or be null to remove the schedule).');
  }
  return c.errors.length === before ? out : undefined;
}

/** A list of strings, or one string split as a shell would (Mage accepts both). */
function checkCommandWords(v: unknown, at: string, c: Checker): string[] | undefined {
  let words: string[];
  if (typeof v === 'string') {
    const split = splitShellWords(v);
    if ('error' in split) {
      c.fail(at, `${split.error}; write the command as a list of strings or quote it as a shell would.`);
      return undefined;
    }
    words = split.words;
  } else if (Array.isArray(v)) {
    const bad = v.findIndex((w) => typeof w !== 'string');
    if (bad >= 0) {
      c.fail(indexPath(at, bad), `must be a string, not ${describe(v[bad])}.`);
      return undefined;
    }
    words = v as string[];
  } else {
    c.fail(at, `must be a list of strings or one command line, not ${describe(v)}.`);
    return undefined;
  }
  if (words.length === 0) {
    c.fail(at, 'must name a program to run (or be null to remove it).');
    return undefined;
  }
  if (words.some((w) => w.includes('\0'))) {
    c.fail(at, 'must not contain NUL characters.');
    return undefined;
  }
  return [...words];
}

/** Deep for termination_policy and post_start; null removes. An emptied post_start disappears. */
export function mergeLifecycleConfig(current: LifecycleConfig, patch: LifecycleConfigPatch): LifecycleConfig {
  const out: LifecycleConfig = {
    termination_policy: { ...DEFAULT_LIFECYCLE.termination_policy, ...current.termination_policy, ...patch.termination_policy },
  };
  const pre = patch.pre_start_script_path === undefined ? current.pre_start_script_path : patch.pre_start_script_path;
  if (pre !== null && pre !== undefined) out.pre_start_script_path = pre;
  const post = patch.post_start === null ? undefined : mergePostStart(current.post_start, patch.post_start);
  if (post) out.post_start = post;
  // Shown only once set, so workspaces that never used it look as they did before.
  const wake = patch.wake_on_request ?? current.wake_on_request;
  if (wake !== undefined) out.wake_on_request = wake;
  const preStop = patch.pre_stop === null ? undefined : mergePreStop(current.pre_stop, patch.pre_stop);
  if (preStop) out.pre_stop = preStop;
  const schedule = patch.schedule === undefined ? current.schedule : patch.schedule;
  if (schedule) out.schedule = { ...schedule };
  return out;
}

/** Like post_start: keys merged, null removes one; with neither a command nor a hook nothing is left to run. */
function mergePreStop(current: PreStopConfig | undefined, patch: PreStopPatch | undefined): PreStopConfig | undefined {
  const out: PreStopConfig = {};
  const command = patch?.command === undefined ? current?.command : patch.command;
  if (command) out.command = [...command];
  const hookPath = patch?.hook_path === undefined ? current?.hook_path : patch.hook_path;
  if (hookPath) out.hook_path = hookPath;
  if (!out.command && !out.hook_path) return undefined;
  const timeout = patch?.timeout_seconds ?? current?.timeout_seconds;
  if (timeout !== undefined) out.timeout_seconds = timeout;
  return out;
}

function mergePostStart(current: PostStartConfig | undefined, patch: PostStartPatch | undefined): PostStartConfig | undefined {
  const out: PostStartConfig = {};
  const command = patch?.command === undefined ? current?.command : patch.command;
  if (command) out.command = [...command];
  const hookPath = patch?.hook_path === undefined ? current?.hook_path : patch.hook_path;
  if (hookPath) out.hook_path = hookPath;
  const failOnError = patch?.fail_on_error ?? current?.fail_on_error;
  if (failOnError !== undefined) out.fail_on_error = failOnError;
  const waitForPort = patch?.wait_for_port ?? current?.wait_for_port;
  if (waitForPort !== undefined) out.wait_for_port = waitForPort;
  return Object.keys(out).length > 0 ? out : undefined;
}
