// Label selectors as the API server parses them: equality (=, ==, !=), set-based (in, notin), existence (k, !k).

type Requirement = (labels: Record<string, string>) => boolean;

/** Splits on commas that are not inside a `( ... )` value set. */
function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      terms.push(current);
      current = '';
    } else current += ch;
  }
  terms.push(current);
  return terms.map((t) => t.trim()).filter((t) => t.length > 0);
}

function parseTerm(term: string): Requirement {
  const set = /^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
  if (set) {
    const [, key, op, raw] = set as unknown as [string, string, string, string];
    const values = raw.split(',').map((v) => v.trim());
    return op === 'in'
      ? (l) => key in l && values.includes(l[key]!)
      : (l) => !(key in l) || !values.includes(l[key]!);
  }
  const neq = /^([^\s!=]+)\s*!=\s*(\S*)$/.exec(term);
  if (neq) return (l) => l[neq[1]!] !== neq[2];
  const eq = /^([^\s!=]+)\s*==?\s*(\S*)$/.exec(term);
  if (eq) return (l) => l[eq[1]!] === eq[2];
  const notExists = /^!\s*([^\s!=]+)$/.exec(term);
  if (notExists) return (l) => !(notExists[1]! in l);
  if (/^[^\s!=()]+$/.test(term)) return (l) => term in l;
  throw new Error(`unable to parse requirement: ${term}`);
}

/** Compiles a selector; throws on syntax the API server would reject. */
export function parseLabelSelector(selector: string | null | undefined): Requirement {
  if (!selector) return () => true;
  const requirements = splitTerms(selector).map(parseTerm);
  return (labels) => requirements.every((r) => r(labels));
}
