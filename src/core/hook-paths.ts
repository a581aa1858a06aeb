// Where a lifecycle script may live: inside the hooks directory of the control plane, nowhere else.
// This is the lexical half; the controller also resolves symlinks (that needs the file system).
import { posix } from 'node:path';

export type LexicalHookPath = { relative: string } | { error: string };

/**
 * `p` may be relative to the hooks directory or absolute inside it. Anything that leaves the directory
 * through `..`, or an absolute path elsewhere, is refused.
 */
export function resolveHookPathLexically(hooksDir: string, p: string): LexicalHookPath {
  const where = `a path inside the hooks directory ${hooksDir}, such as scripts/setup.sh`;
  if (p === '' || p.includes('\0')) return { error: `must be ${where}.` };
  let relative: string;
  if (posix.isAbsolute(p)) {
    if (!posix.isAbsolute(hooksDir)) return { error: `must be relative to the hooks directory ${hooksDir}.` };
    relative = posix.relative(posix.normalize(hooksDir), posix.normalize(p));
    if (relative === '' || posix.isAbsolute(relative) || relative === '..' || relative.startsWith('../')) {
      return { error: `${JSON.stringify(p)} is outside the hooks directory; it must be ${where}.` };
    }
  } else {
    relative = posix.normalize(p);
    if (relative === '..' || relative.startsWith('../')) {
      return { error: `${JSON.stringify(p)} leaves the hooks directory; it must be ${where}.` };
    }
  }
  relative = relative.replace(/\/+$/, '');
  if (relative === '' || relative === '.') return { error: `names the hooks directory itself; it must be ${where}.` };
  return { relative };
}
