// A strict reader of the Prometheus text exposition format (version 0.0.4), written for the tests: every
// line must be a HELP, a TYPE or a sample of a declared family, label values correctly escaped, values
// numbers; anything else throws, naming the line. Then sums of samples by name and labels.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string;
}

export interface Scrape {
  families: Map<string, Family>;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/** As Prometheus reads a value (Go's strconv.ParseFloat): NaN and Inf in any case, Inf signed or not. */
function parseValue(raw: string, where: string): number {
  const special = /^([-+]?)(inf|infinity|nan)$/i.exec(raw);
  if (special) {
    const [, sign, word] = special as unknown as [string, string, string];
    if (word.toLowerCase() !== 'nan') return sign === '-' ? -Infinity : Infinity;
    if (sign) throw new Error(`${where}: a signed NaN`);
    return Number.NaN;
  }
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw)) throw new Error(`${where}: "${raw}" is not a number`);
  return Number(raw);
}

/** Reads `{a="x",b="y\"z"}` from `text` at `start` (the brace); returns the labels and where it ended. */
function parseLabels(text: string, start: number, where: string): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start + 1;
  for (;;) {
    if (text[i] === '}') return { labels, end: i + 1 };
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new Error(`${where}: a label without "="`);
    const name = text.slice(i, eq);
    if (!LABEL_NAME.test(name)) throw new Error(`${where}: "${name}" is not a label name`);
    if (name in labels) throw new Error(`${where}: label ${name} twice`);
    if (text[eq + 1] !== '"') throw new Error(`${where}: the value of ${name} is not quoted`);
    let value = '';
    let j = eq + 2;
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] !== '\\') {
        value += text[j];
        continue;
      }
      const next = text[++j];
      if (next === 'n') value += '\n';
      else if (next === '\\' || next === '"') value += next;
      else throw new Error(`${where}: bad escape \\${next} in label ${name}`);
    }
    if (j >= text.length) throw new Error(`${where}: the value of ${name} is not closed`);
    labels[name] = value;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') throw new Error(`${where}: expected "," or "}" after label ${name}`);
  }
}

/** The family a sample belongs to: its own name, or the name without a histogram's or summary's suffix. */
function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  const own = families.get(name);
  if (own) return own;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  const family = families.get(base);
  if (family && (family.type === 'histogram' || (family.type === 'summary' && !name.endsWith('_bucket')))) return family;
  return undefined;
}

export function parsePrometheusText(text: string): Scrape {
  const families = new Map<string, Family>();
  const samples: Sample[] = [];
  const seen = new Set<string>();
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('the text does not end with a newline');
  const lines = text.split('\n');
  lines.pop();
  lines.forEach((line, index) => {
    const where = `line ${index + 1} (${line.slice(0, 80)})`;
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) return; // a plain comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!NAME.test(name)) throw new Error(`${where}: "${name}" is not a metric name`);
      const family = families.get(name) ?? { name, type: 'untyped' as const, help: '' };
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`${where}: unknown type "${rest}"`);
        if (samples.some((s) => familyOf(s.name, families)?.name === name)) throw new Error(`${where}: TYPE after samples of ${name}`);
        family.type = rest as Family['type'];
      } else {
        family.help = rest;
      }
      families.set(name, family);
      return;
    }
    const nameEnd = line.search(/[{ ]/);
    if (nameEnd <= 0) throw new Error(`${where}: not a sample`);
    const name = line.slice(0, nameEnd);
    if (!NAME.test(name)) throw new Error(`${where}: "${name}" is not a metric name`);
    let labels: Record<string, string> = {};
    let rest = nameEnd;
    if (line[nameEnd] === '{') ({ labels, end: rest } = parseLabels(line, nameEnd, where));
    const fields = line.slice(rest).trim().split(/\s+/);
    if (line[rest] !== ' ' || fields.length < 1 || fields.length > 2) throw new Error(`${where}: expected " value [timestamp]"`);
    const value = parseValue(fields[0]!, where);
    if (fields[1] !== undefined && !/^-?\d+$/.test(fields[1])) throw new Error(`${where}: bad timestamp`);
    if (!familyOf(name, families)) throw new Error(`${where}: sample of ${name} without a TYPE for its family`);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(key)) throw new Error(`${where}: the series ${key} twice`);
    seen.add(key);
    samples.push({ name, labels, value });
  });
  return { families, samples };
}

/** The sum of the samples of `name` whose labels include `labels`. */
export function sumOf(scrape: Scrape, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const s of scrape.samples) {
    if (s.name !== name) continue;
    if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) total += s.value;
  }
  return total;
}

/** The label values that appear, over every sample. */
export function labelValues(scrape: Scrape): Set<string> {
  const values = new Set<string>();
  for (const s of scrape.samples) for (const v of Object.values(s.labels)) values.add(v);
  return values;
}
