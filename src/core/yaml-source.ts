// Parses one YAML document into plain data plus a SourceMap, so later checks can name the line of a field.
import { isMap, isScalar, isSeq, LineCounter, parseDocument, Scalar, type Node } from 'yaml';
import type { FieldError } from './errors.js';
import { indexPath, keyPath, type SourceMap } from './checker.js';
import { parseSimpleYaml } from './simple-yaml-parse.js';

export interface ParsedYaml {
  value: unknown;
  source: SourceMap;
  errors: FieldError[];
}

/** Aliases can multiply a small text into a huge value; nobody needs more than this in a container_config. */
const MAX_ALIAS_COUNT = 100;

export function parseYaml(text: string, field: string): ParsedYaml {
  const reading: YamlReading = parseSimpleYaml(text, field) ?? parseYamlWithLibrary(text, field);
  const { lines, texts } = reading;
  return { value: reading.value, source: { line: (f) => lines.get(f), text: (f) => texts.get(f) }, errors: reading.errors ?? [] };
}

interface YamlReading {
  value: unknown;
  lines: Map<string, number>;
  texts: Map<string, string>;
  errors?: FieldError[];
}

/** Any YAML, by the library: what parseSimpleYaml does not take, and the reference it is tested against. */
export function parseYamlWithLibrary(text: string, field: string): YamlReading {
  const lineCounter = new LineCounter();
  const lines = new Map<string, number>();
  const texts = new Map<string, string>();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });

  const first = doc.errors[0];
  if (first) {
    const line = first.linePos?.[0]?.line ?? 1;
    // The library appends "at line N, column M:" and a code excerpt; keep the one sentence before it.
    const reason = first.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    return { value: undefined, lines, texts, errors: [{ field, line, message: `line ${line}: ${reason} (the YAML is not valid).` }] };
  }

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
  const root = doc.contents as Node | null;
  const rootLine = lineOf(root);
  if (rootLine !== undefined) lines.set(field, rootLine);
  walk(root, field);

  try {
    return { value: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }), lines, texts, errors: [] };
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return { value: undefined, lines, texts, errors: [{ field, message: `${reason} (the YAML is not valid).` }] };
  }
}
