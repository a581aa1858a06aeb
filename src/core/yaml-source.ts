// Parses one YAML document with the yaml library into plain data plus a SourceMap, so later checks can
// name the line of a field and see a plain scalar as it was written (`1.10`, not the number 1.1).
import { isMap, isScalar, isSeq, LineCounter, parseDocument, Parser, Scalar, type Node } from 'yaml';
import type { FieldError } from './errors.js';
import { indexPath, keyPath, type SourceMap } from './checker.js';

export interface ParsedYaml {
  value: unknown;
  source: SourceMap;
  errors: FieldError[];
}

/** Aliases can multiply a small text into a huge value; nobody needs more than this in a container_config. */
const MAX_ALIAS_COUNT = 100;

const NO_SOURCE: SourceMap = { line: () => undefined, text: () => undefined };

export function parseYaml(text: string, field: string): ParsedYaml {
  const tagError = yamlTagError(text, field);
  if (tagError) return { value: undefined, source: NO_SOURCE, errors: [tagError] };
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });

  const first = doc.errors[0];
  if (first) {
    const line = first.linePos?.[0]?.line ?? 1;
    // The library appends "at line N, column M:" and a code excerpt; keep the one sentence before it.
    const reason = first.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    return { value: undefined, source: NO_SOURCE, errors: [{ field, line, message: `line ${line}: ${reason} (the YAML is not valid).` }] };
  }

  const source = sourceMapOf(doc.contents as Node | null, lineCounter, field);
  try {
    return { value: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }), source, errors: [] };
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return { value: undefined, source, errors: [{ field, message: `${reason} (the YAML is not valid).` }] };
  }
}

/** The line of every key and list item (the document's under the field's own name), and plain scalars as written. */
function sourceMapOf(root: Node | null, lineCounter: LineCounter, field: string): SourceMap {
  const lines = new Map<string, number>();
  const texts = new Map<string, string>();
  const lineOf = (node: { range?: [number, number, number] | null } | null | undefined): number | undefined =>
    node?.range ? lineCounter.linePos(node.range[0]).line : undefined;

  const walk = (node: Node | null | undefined, path: string): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isScalar(pair.key)) continue;
        const child = keyPath(path, String(pair.key.value));
        const line = lineOf(pair.key as Scalar);
        if (line !== undefined) lines.set(child, line);
        walk(pair.value as Node | null, child);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        const child = indexPath(path, i);
        const line = lineOf(item as Node);
        if (line !== undefined) lines.set(child, line);
        walk(item as Node, child);
      });
    } else if (isScalar(node) && node.type === Scalar.PLAIN && typeof node.source === 'string') {
      texts.set(path, node.source);
    }
  };
  const rootLine = lineOf(root);
  if (rootLine !== undefined) lines.set(field, rootLine);
  walk(root, field);
  return { line: (f) => lines.get(f), text: (f) => texts.get(f) };
}

/**
 * A tag (`!!python/object/apply:os.system`, `!!binary`, `!custom`) asks the reader to build a typed
 * object; the library would quietly drop the ones it does not know and keep the rest of the
 * document. A container_config holds plain values only, so any tag is refused.
 * Tags start with '!', so text without one needs no look.
 */
export function yamlTagError(text: string, field: string): FieldError | undefined {
  if (!text.includes('!')) return undefined;
  const lineCounter = new LineCounter();
  for (const token of new Parser(lineCounter.addNewLine).parse(text)) {
    const tag = findTag(token);
    if (tag) {
      const line = lineCounter.linePos(tag.offset).line;
      const shown = tag.source.length > 60 ? `${tag.source.slice(0, 60)}…` : tag.source;
      return { field, line, message: `line ${line}: the YAML tag ${shown} is not accepted; container_config takes plain values only (quote the text if you meant a string starting with '!').` };
    }
  }
  return undefined;
}

interface TagToken {
  type: 'tag';
  offset: number;
  source: string;
}

function findTag(node: unknown): TagToken | undefined {
  if (Array.isArray(node)) {
    for (const item of node) {
      const found = findTag(item);
      if (found) return found;
    }
    return undefined;
  }
  if (typeof node !== 'object' || node === null) return undefined;
  const token = node as Partial<TagToken>;
  if (token.type === 'tag' && typeof token.offset === 'number' && typeof token.source === 'string') return token as TagToken;
  for (const value of Object.values(node)) {
    const found = findTag(value);
    if (found) return found;
  }
  return undefined;
}
