// Checkers for the container_config keys that are plain shapes: lists, string maps, volumes, pod scheduling.
import type { VolumeBind } from './types.js';
import { Checker, describe, indexPath, isPlainObject, keyPath, oneOf } from './checker.js';
import { isQualifiedName } from './names.js';
import { RESERVED_LABELS } from './defaults.js';
import { byteLength, LIMITS } from './limits.js';
import { isCanonicalHostPath } from './host-paths.js';
import { TOLERATION_EFFECTS, TOLERATION_OPERATORS } from './container-config-values.js';

const TOLERATION_KEYS = ['key', 'operator', 'value', 'effect', 'tolerationSeconds'];
const AFFINITY_KEYS = ['nodeAffinity', 'podAffinity', 'podAntiAffinity'];
const NAMED_VOLUME = /^[A-Za-z0-9][A-Za-z0-9_.-]+$/;

export function isOneOf<T extends string>(v: unknown, allowed: readonly T[]): v is T {
  return typeof v === 'string' && (allowed as readonly string[]).includes(v);
}

export function isHttpUrl(s: string): boolean {
  try {
    const url = new URL(s);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** False (and an error) when a list or mapping has more entries than any workspace needs. */
export function checkEntryCount(v: unknown, at: string, c: Checker): boolean {
  const count = Array.isArray(v) ? v.length : isPlainObject(v) ? Object.keys(v).length : 0;
  if (count <= LIMITS.entries) return true;
  c.fail(at, `has ${count} entries; at most ${LIMITS.entries} are allowed.`);
  return false;
}

/** Checks each item; undefined when the value is not a list or any item is wrong. */
export function checkList<T>(v: unknown, at: string, c: Checker, what: string, item: (x: unknown, at: string) => T | undefined): T[] | undefined {
  if (!Array.isArray(v)) {
    c.fail(at, `must be ${what}, not ${describe(v)}.`);
    return undefined;
  }
  const out: T[] = [];
  let ok = true;
  v.forEach((x, i) => {
    const r = item(x, indexPath(at, i));
    if (r === undefined) ok = false;
    else out.push(r);
  });
  return ok ? out : undefined;
}

export function checkVolumes(v: unknown, at: string, c: Checker): Record<string, VolumeBind> | undefined {
  if (!isPlainObject(v)) {
    c.fail(at, `must be a mapping of host path to {bind, mode}, not ${describe(v)}.`);
    return undefined;
  }
  if (!checkEntryCount(v, at, c)) return undefined;
  const entries: [string, VolumeBind][] = [];
  for (const [host, spec] of Object.entries(v)) {
    const hostAt = keyPath(at, host);
    if (host.startsWith('/') ? !isCanonicalHostPath(host) : !NAMED_VOLUME.test(host)) {
      // Docker reads "host:container:mode", so a ':' in either path would be read as a different bind.
      c.fail(hostAt, `must be an absolute host path written plainly (no '.', '..', '//', ':' or trailing '/'; at most ${LIMITS.pathBytes} bytes) or a Docker volume name.`);
      continue;
    }
    if (!isPlainObject(spec)) {
      c.fail(hostAt, `must be a mapping {bind: /path/in/container, mode: rw or ro}, not ${describe(spec)}.`);
      continue;
    }
    const extra = Object.keys(spec).filter((k) => k !== 'bind' && k !== 'mode');
    for (const k of extra) c.fail(keyPath(hostAt, k), 'is not allowed in a volume; the allowed keys are bind and mode.');
    const bind = spec.bind;
    const mode = spec.mode ?? 'rw';
    const bindOk = typeof bind === 'string' && bind.startsWith('/') && !bind.includes('\0') && !bind.includes(':') && byteLength(bind) <= LIMITS.pathBytes;
    if (!bindOk) c.fail(`${hostAt}.bind`, `must be an absolute path in the container without ':' (at most ${LIMITS.pathBytes} bytes), not ${describe(bind)}.`);
    if (mode !== 'rw' && mode !== 'ro') c.fail(`${hostAt}.mode`, `must be rw or ro, not ${describe(mode)}.`);
    if (bindOk && extra.length === 0 && (mode === 'rw' || mode === 'ro')) entries.push([host, { bind: bind as string, mode }]);
  }
  return Object.fromEntries(entries);
}

export function checkStringMap(
  v: unknown,
  at: string,
  c: Checker,
  reserved: boolean,
  valueOk: (s: string) => boolean,
  valueHelp: string,
): Record<string, string> | undefined {
  if (!isPlainObject(v)) {
    c.fail(at, `must be a mapping of names to strings, not ${describe(v)}.`);
    return undefined;
  }
  if (!checkEntryCount(v, at, c)) return undefined;
  const entries: [string, string][] = [];
  for (const [key, raw] of Object.entries(v)) {
    const keyAt = keyPath(at, key);
    if (!isQualifiedName(key)) {
      c.fail(keyAt, 'is not a valid key; use letters, digits, -, _ and . with an optional prefix such as example.com/.');
      continue;
    }
    if (reserved && RESERVED_LABELS.includes(key)) {
      c.fail(keyAt, `is set by wsm and cannot be changed; the reserved labels are ${RESERVED_LABELS.join(', ')}.`);
      continue;
    }
    const text = c.scalarText(raw, keyAt);
    if (text === undefined || !valueOk(text)) c.fail(keyAt, `must be ${valueHelp}, not ${describe(raw)}.`);
    else entries.push([key, text]);
  }
  return Object.fromEntries(entries);
}

export function checkToleration(v: unknown, at: string, c: Checker): Record<string, unknown> | undefined {
  if (!isPlainObject(v)) {
    c.fail(at, `must be a mapping with ${TOLERATION_KEYS.join(', ')}, not ${describe(v)}.`);
    return undefined;
  }
  const out: Record<string, unknown> = {};
  let ok = true;
  const bad = (k: string, message: string): void => {
    c.fail(keyPath(at, k), message);
    ok = false;
  };
  for (const [k, raw] of Object.entries(v)) {
    if (!TOLERATION_KEYS.includes(k)) bad(k, `is not allowed in a toleration; the allowed keys are ${TOLERATION_KEYS.join(', ')}.`);
    else if (k === 'tolerationSeconds') {
      if (Number.isInteger(raw) && (raw as number) >= 0 && (raw as number) <= LIMITS.tolerationSeconds) out[k] = raw;
      else bad(k, `must be a whole number of seconds from 0 to ${LIMITS.tolerationSeconds} (a year), not ${describe(raw)}.`);
    } else if (k === 'operator' && !isOneOf(raw, TOLERATION_OPERATORS)) bad(k, `must be ${oneOf(TOLERATION_OPERATORS)}, not ${describe(raw)}.`);
    else if (k === 'effect' && !isOneOf(raw, TOLERATION_EFFECTS)) bad(k, `must be ${oneOf(TOLERATION_EFFECTS)}, not ${describe(raw)}.`);
    else {
      const text = c.scalarText(raw, keyPath(at, k));
      if (text === undefined) bad(k, `must be a string, not ${describe(raw)}.`);
      else out[k] = text;
    }
  }
  return ok ? out : undefined;
}

export function checkAffinity(v: unknown, at: string, c: Checker): Record<string, unknown> | undefined {
  if (!isPlainObject(v)) {
    c.fail(at, `must be a mapping with ${AFFINITY_KEYS.join(', ')}, not ${describe(v)}.`);
    return undefined;
  }
  let ok = true;
  for (const [k, raw] of Object.entries(v)) {
    if (!AFFINITY_KEYS.includes(k)) {
      c.fail(keyPath(at, k), `is not allowed in affinity; the allowed keys are ${AFFINITY_KEYS.join(', ')}.`);
      ok = false;
    } else if (!isPlainObject(raw)) {
      c.fail(keyPath(at, k), `must be a mapping as Kubernetes defines it, not ${describe(raw)}.`);
      ok = false;
    }
  }
  if (ok && !allFinite(v)) {
    c.fail(at, 'must hold finite numbers only (a weight such as 1e309 or .inf is not one).');
    ok = false;
  }
  const bytes = byteLength(JSON.stringify(v));
  if (ok && bytes > LIMITS.affinityBytes) {
    c.fail(at, `is ${bytes} bytes as JSON; at most ${LIMITS.affinityBytes} (64 KiB) are allowed.`);
    ok = false;
  }
  return ok ? structuredClone(v) : undefined;
}

function allFinite(v: unknown): boolean {
  if (typeof v === 'number') return Number.isFinite(v);
  if (Array.isArray(v)) return v.every(allFinite);
  if (isPlainObject(v)) return Object.values(v).every(allFinite);
  return true;
}
