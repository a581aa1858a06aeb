// Collects FieldErrors while a value is validated, and knows where (which YAML line) each field came from.
import type { FieldError } from './errors.js';

/** What the parser remembers of the YAML text: the line of each field and the raw text of plain scalars. */
export interface SourceMap {
  line(field: string): number | undefined;
  /** The scalar as written, e.g. "1.10" for a value YAML reads as the number 1.1. */
  text(field: string): string | undefined;
}

export const NO_SOURCE: SourceMap = { line: () => undefined, text: () => undefined };

export class Checker {
  readonly errors: FieldError[] = [];
  constructor(readonly source: SourceMap = NO_SOURCE) {}

  fail(field: string, message: string): void {
    const line = this.lineOf(field);
    this.errors.push(line === undefined ? { field, message } : { field, message: `line ${line}: ${message}`, line });
  }

  /** A missing key has no line of its own; the nearest enclosing field that has one is where to look. */
  private lineOf(field: string): number | undefined {
    for (let f: string | undefined = field; f; f = parentPath(f)) {
      const line = this.source.line(f);
      if (line !== undefined) return line;
    }
    return undefined;
  }

  /** A scalar as a string: numbers and booleans as the user wrote them (`1.10` stays "1.10"). */
  scalarText(value: unknown, field: string): string | undefined {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
      return this.source.text(field) ?? String(value);
    }
    return undefined;
  }
}

/** `parent.key`, or `parent["odd key"]` when the key is not a plain identifier, so paths stay unambiguous. */
export function keyPath(parent: string, key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

function parentPath(path: string): string | undefined {
  const m = /(\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\]|\["(?:[^"\\]|\\.)*"\])$/.exec(path);
  return m ? path.slice(0, m.index) : undefined;
}

export function indexPath(parent: string, index: number): string {
  return `${parent}[${index}]`;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** How a value is named in messages: "a number", "a list", "null". */
export function describe(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'boolean') return `the boolean ${v}`;
  return `the number ${String(v)}`;
}

/** Quotes a list of allowed words for a message: "a, b or c". */
export function oneOf(words: readonly string[]): string {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}
