import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mergeContainerConfig, parseContainerConfig, renderContainerConfig } from '../../src/core/container-config.js';
import { containerConfig } from './arbitraries.js';

describe('renderContainerConfig', () => {
  test('an empty config renders as an empty string', () => {
    assert.equal(renderContainerConfig({}), '');
  });

  test('keys come in the documented order and env as a list of {name, value}', () => {
    const yaml = renderContainerConfig({
      labels: { team: 'data' },
      env: [{ name: 'VERSION', value: '1.10' }, { name: 'EMPTY', value: '' }],
      image: 'busybox:1',
      port: 6789,
    });
    assert.equal(yaml, 'image: busybox:1\nenv:\n  - name: VERSION\n    value: "1.10"\n  - name: EMPTY\n    value: ""\nport: 6789\nlabels:\n  team: data\n');
  });

  test('values YAML would read as something else come back as the same strings', () => {
    const tricky = ['null', '~', 'true', 'no', '0x10', '1e3', '1.10', ' lead', 'trail ', 'a: b', '#x', '- x', '*ref', 'two\nlines\n', "quote'\"", '\t', ''];
    const config = { env: tricky.map((value, i) => ({ name: `V${i}`, value })), command: tricky.filter((t) => t !== '') };
    const { patch, errors } = parseContainerConfig(renderContainerConfig(config));
    assert.deepEqual(errors, []);
    assert.deepEqual(patch, config);
  });

  test('parse(render(config)) gives the config back', () => {
    fc.assert(
      fc.property(containerConfig, (config) => {
        const yaml = renderContainerConfig(config);
        const { patch, errors } = parseContainerConfig(yaml);
        assert.deepEqual(errors, [], yaml);
        assert.deepEqual(mergeContainerConfig({}, patch), mergeContainerConfig({}, config));
        assert.equal(renderContainerConfig(mergeContainerConfig({}, patch)), yaml);
      }),
      { numRuns: 300 },
    );
  });
});
