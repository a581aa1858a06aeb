// Environment variables: names, which cluster vars a workspace inherits, and how they combine with its own.
import type { EnvVar } from './types.js';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const ENV_NAME_HELP = 'letters, digits and _, not starting with a digit';

export function isEnvName(s: string): boolean {
  return ENV_NAME.test(s);
}

type Matcher = (name: string) => boolean;

/**
 * A pattern is an exact name, a glob where `*` matches any run of characters (DEV_ENV_*), or a /regex/
 * (optionally /regex/i) tested anywhere in the name unless it anchors itself. Undefined when it is not valid.
 */
function compilePattern(pattern: string): Matcher | undefined {
  const re = /^\/(.+)\/([i]*)$/.exec(pattern);
  if (re) {
    try {
      const regex = new RegExp(re[1]!, re[2]);
      return (name) => regex.test(name);
    } catch {
      return undefined;
    }
  }
  if (pattern.includes('*')) {
    const glob = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`);
    return (name) => glob.test(name);
  }
  return pattern === '' ? undefined : (name) => name === pattern;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Why a pattern of cluster settings is not valid, or undefined when it is. */
export function checkInheritPattern(pattern: string): string | undefined {
  if (compilePattern(pattern) !== undefined) return undefined;
  return /^\/.+\/[a-z]*$/.test(pattern)
    ? `${JSON.stringify(pattern)} is not a valid regular expression.`
    : 'must be a variable name, a glob with * (such as DEV_ENV_*) or a /regular expression/.';
}

/** The cluster env a workspace inherits: every var matching one of the patterns; all of them when there are none. */
export function selectInheritedEnv(clusterEnv: readonly EnvVar[], patterns: readonly string[]): EnvVar[] {
  const matchers = patterns.map(compilePattern).filter((m): m is Matcher => m !== undefined);
  const selected = patterns.length === 0 ? clusterEnv : clusterEnv.filter((v) => matchers.some((m) => m(v.name)));
  return dedupe(selected);
}

/**
 * The env a workspace runs with: inherited vars first, then its own, so its own may refer to inherited ones
 * ($(VAR) in Kubernetes); a var of its own replaces an inherited one of the same name.
 */
export function effectiveEnv(inherited: readonly EnvVar[], own: readonly EnvVar[]): EnvVar[] {
  const ownVars = dedupe(own);
  const ownNames = new Set(ownVars.map((v) => v.name));
  return [...dedupe(inherited).filter((v) => !ownNames.has(v.name)), ...ownVars];
}

/** One var per name: the last value wins, at the position the name first appeared. */
function dedupe(vars: readonly EnvVar[]): EnvVar[] {
  const byName = new Map<string, string>();
  for (const v of vars) byName.set(v.name, v.value);
  return [...byName].map(([name, value]) => ({ name, value }));
}
