// The simple-shape YAML renderer and reader must agree exactly with the yaml library whenever they
// answer at all, and must answer for the shapes a container_config usually has.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { renderSimpleYaml, YAML_RENDER_OPTIONS } from '../../src/core/simple-yaml-render.js';
import { parseSimpleYaml } from '../../src/core/simple-yaml-parse.js';
import { parseYamlWithLibrary } from '../../src/core/yaml-source.js';
import { containerConfig } from './arbitraries.js';
import { CONTAINER_CONFIG_KEYS, renderContainerConfig } from '../../src/core/container-config.js';

// Strings at the edges of what may stay plain: look-alikes of numbers, booleans and nulls, indicators, colons, spaces.
const edgy = fc.constantFrom(
  'busybox', 'wsm-test/busybox:1', 'a:b', 'a:', ':a', 'a: b', 'a b', ' a', 'a ', '', '1', '007', '-1', '+1', '1.5', '1.10', '.5', '1e3', '1e', '1E',
  '0x1F', '0o17', '1_000', '500m', '1Gi', '2.5Gi', '1Ei', '3k', 'true', 'True', 'FALSE', 'null', 'Null', '~', 'yes', 'No', 'on', 'y', 'N',
  '-x', '- x', '#x', 'a#b', 'a #b', '*ref', '&a', '!tag', '%x', '@x', '`x', '|', '>', '[a]', '{a}', '"q"', "it's", 'two\nlines', 'tab\there',
  '/path/to', '_x', 'kubernetes.io/os', '.inf', '-.inf', '.NaN', '__proto__', 'ünï', '=', 'a=b', 'a,b', '?', '?x',
);
// Mostly values the renderer takes, so that the comparison is made often; the rest make it give up.
const text = fc.oneof(
  { arbitrary: edgy, weight: 3 },
  { arbitrary: fc.stringMatching(/^[A-Za-z0-9_./:-]{1,10}$/), weight: 3 },
  { arbitrary: fc.string({ maxLength: 8 }), weight: 1 },
);
const scalar = fc.oneof(
  { arbitrary: text, weight: 6 },
  { arbitrary: fc.integer(), weight: 2 },
  { arbitrary: fc.boolean(), weight: 1 },
  { arbitrary: fc.constant(null), weight: 1 },
  { arbitrary: fc.oneof(fc.double(), fc.constant(-0)), weight: 1 },
);
const key = fc.oneof({ arbitrary: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.\/-]{0,8}$/), weight: 4 }, { arbitrary: edgy, weight: 1 });
const { value } = fc.letrec<{ value: unknown; map: Record<string, unknown> }>((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, { arbitrary: scalar, weight: 4 }, { arbitrary: tie('map'), weight: 1 }, { arbitrary: fc.array(tie('value'), { maxLength: 3 }), weight: 1 }),
  map: fc.dictionary(key, tie('value'), { maxKeys: 3, noNullPrototype: true }),
}));
const mapping = fc.dictionary(key, value, { minKeys: 1, maxKeys: 5, noNullPrototype: true });

test('where the simple renderer writes a mapping, it writes what the yaml library writes', () => {
  let rendered = 0;
  fc.assert(
    fc.property(mapping, (map) => {
      const fast = renderSimpleYaml(map);
      if (fast === undefined) return;
      rendered++;
      assert.equal(fast, stringify(map, YAML_RENDER_OPTIONS));
    }),
    { numRuns: 5000 },
  );
  assert.ok(rendered > 250, `only ${rendered} of 5,000 mappings were in the simple shape: the property says little`);
});

test('usual container configs are in the simple shape, and render as the library renders them', () => {
  const usual = {
    image: 'mageai/mageai:0.9.76',
    env: [
      { name: 'BENCH_ROUND', value: '123' },
      { name: 'MODE', value: 'bench' },
    ],
    resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '500m', memory: '512Mi' } },
    command: ['mage', 'start', 'project'],
    port: 6789,
    nodeSelector: { 'kubernetes.io/os': 'linux' },
    tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'data', effect: 'NoSchedule' }],
  };
  const fast = renderSimpleYaml(usual);
  assert.notEqual(fast, undefined);
  assert.equal(fast, stringify(usual, YAML_RENDER_OPTIONS));
});

test('renderContainerConfig gives the library\'s text for any config, in the simple shape or not', () => {
  fc.assert(
    fc.property(containerConfig, (config) => {
      const yaml = renderContainerConfig(config);
      const ordered = stringify(
        Object.fromEntries(
          CONTAINER_CONFIG_KEYS.filter((k) => config[k] !== undefined).map((k) => [k, k === 'env' ? config.env!.map(({ name, value }) => ({ name, value })) : config[k]]),
        ),
        YAML_RENDER_OPTIONS,
      );
      assert.equal(yaml, CONTAINER_CONFIG_KEYS.some((k) => config[k] !== undefined) ? ordered : '');
    }),
    { numRuns: 500 },
  );
});


// What the simple reader finds must be what the library finds: the value, each field's line and the
// plain scalars' texts. Documents come from rendered values (so many are in the simple shape), then are
// mangled: comments and blank lines added, lists moved to their key's indent, quotes changed, lines
// cut or doubled, odd text spliced in.
const mangle = fc.array(
  fc.record({
    at: fc.nat(),
    how: fc.constantFrom('comment', 'blank', 'dedent-list', 'single-quote', 'unquote', 'drop', 'double', 'splice', 'indent'),
    odd: fc.oneof(edgy, fc.constantFrom('  # note', '- x', 'a:', 'a: &x 1', 'b: *x', '---', 'k: [1, 2]', 'k: {a: 1}', 'k: |', '  text', '\t', 'k: "a\\"b"', 'k: v # c', 'k:  v', 'k: v ')),
  }),
  { maxLength: 4 },
);

function mangled(text: string, edits: { at: number; how: string; odd: string }[]): string {
  const lines = text.split('\n');
  for (const e of edits) {
    const i = e.at % Math.max(1, lines.length);
    const line = lines[i] ?? '';
    switch (e.how) {
      case 'comment': lines.splice(i, 0, `${' '.repeat(e.at % 5)}# ${e.odd}`); break;
      case 'blank': lines.splice(i, 0, ' '.repeat(e.at % 3)); break;
      case 'dedent-list': lines[i] = line.replace(/^( *)  - /, '$1- '); break;
      case 'single-quote': lines[i] = line.replace(/"([^"']*)"$/, "'$1'"); break;
      case 'unquote': lines[i] = line.replace(/"([^"]*)"$/, '$1'); break;
      case 'drop': lines.splice(i, 1); break;
      case 'double': lines.splice(i, 0, line); break;
      case 'splice': lines.splice(i, 0, e.odd); break;
      case 'indent': lines[i] = ` ${line}`; break;
    }
  }
  return lines.join('\n');
}

test('where the simple reader reads a document, it finds what the yaml library finds', () => {
  let read = 0;
  fc.assert(
    fc.property(mapping, mangle, fc.constantFrom('container_config', 'workspace.container_config'), (map, edits, field) => {
      const text = mangled(stringify(map, YAML_RENDER_OPTIONS), edits);
      const simple = parseSimpleYaml(text, field);
      if (simple === undefined) return;
      read++;
      const library = parseYamlWithLibrary(text, field);
      assert.deepEqual(library.errors, [], text);
      assert.deepEqual(simple.value, library.value, text);
      assert.deepEqual(simple.lines, library.lines, text);
      assert.deepEqual(simple.texts, library.texts, text);
    }),
    { numRuns: 5000 },
  );
  assert.ok(read > 250, `only ${read} of 5,000 documents were in the simple shape: the property says little`);
});

test('a patch request\'s usual YAML is read without the library', () => {
  const text = 'env:\n  - name: BENCH_ROUND\n    value: "7"\n# resources\nresources:\n  limits:\n    cpu: 500m\n    memory: 1Gi\ncommand:\n- mage\n- start\nport: 6789\n';
  const simple = parseSimpleYaml(text, 'container_config');
  assert.ok(simple);
  assert.deepEqual(simple.value, parseYamlWithLibrary(text, 'container_config').value);
  assert.equal(simple.lines.get('container_config.env[0].value'), 3);
  assert.equal(simple.texts.get('container_config.port'), '6789');
});
