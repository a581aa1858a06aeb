// Host paths a Docker workspace may bind, decided by the operator: absolute prefixes
// (--docker-allowed-bind-roots), none by default. Pure path arithmetic; whether a path is a symlink
// on the engine's host is beyond what the control plane can see (see docs/security.md).
import { posix } from 'node:path';
import { LIMITS, byteLength } from './limits.js';

/** An absolute path as Docker should receive it: no '.', '..', '//', trailing '/', ':' or NUL. */
export function isCanonicalHostPath(path: string): boolean {
  if (!path.startsWith('/') || path.includes('\0') || path.includes(':') || byteLength(path) > LIMITS.pathBytes) return false;
  if (path === '/') return true;
  return posix.normalize(path) === path && !path.endsWith('/');
}

/** The roots from the operator's comma-separated list; throws on a relative or odd one. */
export function parseBindRoots(raw: string | undefined): string[] {
  const roots: string[] = [];
  for (const item of (raw ?? '').split(',')) {
    const text = item.trim();
    if (text === '') continue;
    if (!text.startsWith('/') || text.includes('\0') || text.includes(':')) {
      throw new Error(`"${text}" is not an absolute path`);
    }
    const normalized = posix.normalize(text);
    roots.push(normalized.length > 1 ? normalized.replace(/\/+$/, '') : normalized);
  }
  return roots;
}

/** Whether `path` is one of `roots` or lies below one: `/a/b` covers `/a/b/c`, not `/a/bc`, nor `/a/b/../c`. */
export function isUnderRoots(path: string, roots: readonly string[]): boolean {
  if (!path.startsWith('/')) return false;
  const normalized = posix.normalize(path);
  return roots.some((root) => root === '/' || normalized === root || normalized.startsWith(`${root}/`));
}

/** Host paths among the keys of a `volumes` map (the others are Docker volume names). */
export function isHostPath(volumeKey: string): boolean {
  return volumeKey.startsWith('/');
}
