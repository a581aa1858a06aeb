// Reads the common shape of a container_config without the yaml library: block mappings and sequences
// of words, quoted strings without escapes, integers and booleans, with comments and blank lines. The
// library's parser cost about a tenth of a patch request's work. Anything else (flow collections,
// anchors, tags, block scalars, escapes, tabs, several documents, a key without a value, a value
// spread over lines, a duplicated key) gives undefined and the caller parses with the library; what
// this reads is the library's value, field lines and scalar texts exactly (a property test compares
// the two on rendered configs and on mangled ones).
import { indexPath, keyPath } from './checker.js';

export interface SimpleYaml {
  value: Record<string, unknown>;
  /** The line of each key and list item, and of the document (under the field's own name). */
  lines: Map<string, number>;
  /** Plain scalars as written. */
  texts: Map<string, string>;
}

interface Line {
  number: number;
  indent: number;
  /** The line was `- item`: `text` is the item, which starts at indent + 2. */
  dash: boolean;
  text: string;
}

/** `key:` or `key: value`; the key a word YAML reads as a string. */
const KEY_LINE = /^([A-Za-z_][A-Za-z0-9_./-]*):(?: (.*))?$/;
/** Plain words that read as strings: one word, or words joined by single spaces. */
const PLAIN_WORDS = /^[A-Za-z_/][A-Za-z0-9_./=@,+-]*(?: [A-Za-z0-9_./=@,+-]+)*$/;
/** Kubernetes quantities (`500m`, `1Gi`): they begin with a digit yet read as strings. */
const QUANTITY = /^[0-9]+(?:\.[0-9]+)?(?:[KMGTP]i?|Ei|[kmun])$/;
/** Single words some YAML readers take for booleans or null: left to the library. */
const RESERVED = /^(?:true|false|null|yes|no|on|off|y|n)$/i;
const INTEGER = /^(?:0|-?[1-9][0-9]{0,14})$/;
const DOUBLE_QUOTED = /^"([^"\\]*)"$/;
const SINGLE_QUOTED = /^'([^']*)'$/;

class NotSimple extends Error {}

function lex(text: string): Line[] {
  if (text.includes('\t') || text.includes('\r')) throw new NotSimple();
  const lines: Line[] = [];
  text.split('\n').forEach((raw, i) => {
    const body = raw.trimStart();
    if (body === '' || body.startsWith('#')) return;
    if (raw.endsWith(' ') || body.startsWith('---') || body.startsWith('...') || body.startsWith('%')) throw new NotSimple();
    const indent = raw.length - body.length;
    if (body.startsWith('- ')) lines.push({ number: i + 1, indent, dash: true, text: body.slice(2) });
    else lines.push({ number: i + 1, indent, dash: false, text: body });
  });
  return lines;
}

class Reader {
  private at = 0;
  readonly lines = new Map<string, number>();
  readonly texts = new Map<string, string>();

  constructor(private readonly input: Line[]) {}

  document(field: string): Record<string, unknown> {
    const first = this.input[0];
    if (first === undefined || first.indent !== 0 || first.dash) throw new NotSimple();
    this.lines.set(field, first.number);
    const value = this.mapping(0, field);
    if (this.at < this.input.length) throw new NotSimple();
    return value;
  }

  private mapping(indent: number, path: string): Record<string, unknown> {
    const map: Record<string, unknown> = {};
    for (let line = this.input[this.at]; line !== undefined && line.indent === indent && !line.dash; line = this.input[this.at]) {
      const m = KEY_LINE.exec(line.text);
      if (m === null) throw new NotSimple();
      const key = m[1]!;
      if (RESERVED.test(key) || key === '__proto__' || Object.hasOwn(map, key)) throw new NotSimple();
      const child = keyPath(path, key);
      this.lines.set(child, line.number);
      this.at++;
      map[key] = m[2] !== undefined ? this.scalar(m[2], child) : this.block(indent, child);
    }
    return map;
  }

  /** The value of a `key:` line: the lines below it, further in, or a list at the key's own indent. */
  private block(keyIndent: number, path: string): unknown {
    const next = this.input[this.at];
    if (next === undefined) throw new NotSimple();
    if (next.indent === keyIndent && next.dash) return this.sequence(keyIndent, path);
    if (next.indent <= keyIndent) throw new NotSimple();
    return next.dash ? this.sequence(next.indent, path) : this.mapping(next.indent, path);
  }

  private sequence(indent: number, path: string): unknown[] {
    const items: unknown[] = [];
    for (let line = this.input[this.at]; line !== undefined && line.indent === indent && line.dash; line = this.input[this.at]) {
      const item = indexPath(path, items.length);
      this.lines.set(item, line.number);
      if (KEY_LINE.test(line.text)) {
        // `- key: value` opens a mapping whose keys line up with this one, two further in.
        this.input[this.at] = { number: line.number, indent: indent + 2, dash: false, text: line.text };
        items.push(this.mapping(indent + 2, item));
      } else {
        this.at++;
        items.push(this.scalar(line.text, item));
      }
    }
    return items;
  }

  private scalar(text: string, path: string): string | number | boolean {
    const quoted = DOUBLE_QUOTED.exec(text) ?? SINGLE_QUOTED.exec(text);
    if (quoted !== null) return quoted[1]!;
    let value: string | number | boolean;
    if (text === 'true' || text === 'false') value = text === 'true';
    else if (INTEGER.test(text)) value = Number(text);
    else if ((PLAIN_WORDS.test(text) || QUANTITY.test(text)) && !RESERVED.test(text)) value = text;
    else throw new NotSimple();
    this.texts.set(path, text);
    return value;
  }
}

/** The document as the yaml library would read it, or undefined when it is not in the simple shape. */
export function parseSimpleYaml(text: string, field: string): SimpleYaml | undefined {
  try {
    const reader = new Reader(lex(text));
    const value = reader.document(field);
    return { value, lines: reader.lines, texts: reader.texts };
  } catch (err) {
    if (err instanceof NotSimple) return undefined;
    throw err;
  }
}
