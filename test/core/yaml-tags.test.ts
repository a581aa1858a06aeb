// YAML tags ask the reader to build typed objects (`!!python/object/apply:os.system`); the library
// would drop the ones it does not know and keep the rest. Any tag is refused with its line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseContainerConfig } from '../../src/core/container-config.js';
import { yamlTagError } from '../../src/core/yaml-source.js';

test('the tag of the issue is refused with its line, and nothing of the rest is kept', () => {
  const yaml = 'image: busybox\nenv:\n  - name: A\n    value: !!python/object/apply:os.system ["id"]\n';
  const { patch, errors } = parseContainerConfig(yaml);
  assert.deepEqual(patch, {});
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.field, 'container_config');
  assert.equal(errors[0]!.line, 4);
  assert.match(errors[0]!.message, /^line 4: the YAML tag !!python\/object\/apply:os\.system is not accepted/);
});

test('known tags, local tags, %TAG shorthands and tags on keys are refused too', () => {
  for (const [yaml, line] of [
    ['image: !!str busybox', 1],
    ['x: !!binary aGVsbG8=', 1],
    ['image: busybox\nlabels: !!map\n  a: b', 2],
    ['%TAG !e! tag:example.com,2000:\n---\nimage: !e!x busybox', 3],
    ['? !k image\n: busybox', 1],
    ['env:\n- !custom\n  name: A\n  value: b', 2],
    ['command: [sh, !!str -c]', 1],
  ] as const) {
    const { errors } = parseContainerConfig(yaml);
    assert.deepEqual(errors.map((e) => [e.field, e.line]), [['container_config', line]], yaml);
  }
});

test("a '!' inside a string is not a tag", () => {
  const { patch, errors } = parseContainerConfig('env:\n  - name: A\n    value: "!!x"\n  - name: B\n    value: hi!\ncommand: [sh, -c, "echo !"]');
  assert.deepEqual(errors, []);
  assert.deepEqual(patch.env, [{ name: 'A', value: '!!x' }, { name: 'B', value: 'hi!' }]);
});

test('property: a tag put before any value of a usual config is refused with its line', () => {
  const base = ['image: busybox', 'env:', '  - name: A', '    value: b', 'resources:', '  limits:', '    cpu: 500m', 'command:', '  - sh', 'port: 6789'];
  const valueLines = base.map((l, i) => [l, i] as const).filter(([l]) => /: \S|^\s+- \S/.test(l));
  const tag = fc.constantFrom('!!str', '!!python/object/apply:os.system', '!x', '!', '!<tag:yaml.org,2002:str>');
  fc.assert(
    fc.property(fc.constantFrom(...valueLines), tag, ([line, index], t) => {
      const tagged = line.replace(/(: |- )(?=\S+$)/, `$1${t} `);
      const text = [...base.slice(0, index), tagged, ...base.slice(index + 1)].join('\n');
      assert.equal(yamlTagError(text, 'container_config')?.line, index + 1, text);
      const { errors } = parseContainerConfig(text);
      assert.equal(errors[0]?.line, index + 1, text);
    }),
  );
});
