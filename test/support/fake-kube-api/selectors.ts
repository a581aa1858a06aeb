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

/**
 * Field selectors: `a.b=v`, `a.b==v`, `a.b!=v`, comma-joined, on dotted paths of the object. The real
 * server allows only certain fields per resource; this one allows any.
 */
export function parseFieldSelector(selector: string | null | undefined): (obj: Record<string, unknown>) => boolean {
  if (!selector) return () => true;
  const terms = selector.split(',').map((t) => t.trim()).filter(Boolean).map((term) => {
    const m = /^([A-Za-z0-9_.]+)\s*(!=|==|=)\s*(.*)$/.exec(term);
    if (!m) throw new Error(`invalid field selector: ${term}`);
    const [, path, op, value] = m as unknown as [string, string, string, string];
    return (obj: Record<string, unknown>) => {
      let at: unknown = obj;
      for (const key of path.split('.')) at = at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined;
      const text = at === undefined || at === null ? '' : String(at);
      return op === '!=' ? text !== value : text === value;
    };
  });
  return (obj) => terms.every((t) => t(obj));
}
