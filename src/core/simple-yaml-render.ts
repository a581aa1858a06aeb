// Renders the common shape of a container_config as YAML without the yaml library: block mappings and
// sequences of plain words, quantities, digit strings, integers, booleans and nulls. Every answer
// about a changed config renders it, and the library's general renderer cost as much as the rest of
// a patch request's own work. Anything outside that shape (an empty collection, a list in a list, a
// string that would need quoting other than a run of digits) gives undefined, and the caller renders
// with the library; where this renders, the text is the library's byte for byte (a property test
// checks it against stringify with YAML_RENDER_OPTIONS).

/** How the library renders the API's YAML, which this matches. */
export const YAML_RENDER_OPTIONS = { lineWidth: 0, aliasDuplicateObjects: false } as const;

/** Words the library writes without quotes: no spaces, no leading indicator, colons only inside. */
const PLAIN_WORD = /^[A-Za-z_/][A-Za-z0-9_./-]*(?::[A-Za-z0-9_./-]+)*$/;
/** Kubernetes quantities (`500m`, `1Gi`): they begin with a digit yet read as strings. */
const QUANTITY = /^[0-9]+(?:\.[0-9]+)?(?:[KMGTP]i?|Ei|[kmun])$/;
/** Words that some YAML readers take for booleans or null: left to the library to quote or not. */
const RESERVED = /^(?:true|false|null|yes|no|on|off|y|n)$/i;
const DIGITS = /^[0-9]+$/;

function scalar(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      if ((PLAIN_WORD.test(value) || QUANTITY.test(value)) && !RESERVED.test(value)) return value;
      // A run of digits is a string that would read as a number: the library double-quotes it.
      return DIGITS.test(value) ? `"${value}"` : undefined;
    case 'number':
      return Number.isSafeInteger(value) && !Object.is(value, -0) ? String(value) : undefined;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      return value === null ? 'null' : undefined;
    default:
      return undefined;
  }
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

class Unrenderable extends Error {}

function writeMapping(out: string[], map: Record<string, unknown>, indent: string, firstLinePrefix: string): void {
  const keys = Object.keys(map);
  if (keys.length === 0) throw new Unrenderable();
  keys.forEach((key, i) => {
    if (!PLAIN_WORD.test(key) || RESERVED.test(key)) throw new Unrenderable();
    out.push(i === 0 ? firstLinePrefix : indent, key, ':');
    writeValue(out, map[key], indent);
  });
}

/** A mapping's value, after its `key:`: on the same line if a scalar, else as a block below it. */
function writeValue(out: string[], value: unknown, indent: string): void {
  const text = scalar(value);
  if (text !== undefined) {
    out.push(' ', text, '\n');
    return;
  }
  const inner = `${indent}  `;
  out.push('\n');
  if (Array.isArray(value)) writeSequence(out, value, inner);
  else if (isMapping(value)) writeMapping(out, value, inner, inner);
  else throw new Unrenderable();
}

function writeSequence(out: string[], items: readonly unknown[], indent: string): void {
  if (items.length === 0) throw new Unrenderable();
  for (const item of items) {
    const text = scalar(item);
    if (text !== undefined) out.push(indent, '- ', text, '\n');
    else if (isMapping(item)) writeMapping(out, item, `${indent}  `, `${indent}- `);
    else throw new Unrenderable();
  }
}

/** The block YAML of a non-empty mapping, as the yaml library writes it, or undefined outside the simple shape. */
export function renderSimpleYaml(value: Record<string, unknown>): string | undefined {
  const out: string[] = [];
  try {
    writeMapping(out, value, '', '');
  } catch (err) {
    if (err instanceof Unrenderable) return undefined;
    throw err;
  }
  return out.join('');
}
