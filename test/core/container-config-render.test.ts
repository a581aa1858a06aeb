import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mergeContainerConfig, parseContainerConfig, renderContainerConfig } from '../../src/core/container-config.js';
import { containerConfig } from './arbitraries.js';

/** The image image_tag retags when a config names none (the server's default). */
const DEFAULT_IMAGE = 'mageai/mageai:latest';

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

  test('a usual config renders as this exact text (clients diff it; keep it stable)', () => {
    const yaml = renderContainerConfig({
      image: 'mageai/mageai:0.9.76',
      env: [{ name: 'BENCH_ROUND', value: '123' }, { name: 'MODE', value: 'bench' }],
      resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '500m', memory: '512Mi' } },
      command: ['mage', 'start', 'project'],
      port: 6789,
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'data', effect: 'NoSchedule' }],
    });
    assert.equal(
      yaml,
      [
        'image: mageai/mageai:0.9.76',
        'env:', '  - name: BENCH_ROUND', '    value: "123"', '  - name: MODE', '    value: bench',
        'resources:', '  limits:', '    cpu: "1"', '    memory: 1Gi', '  requests:', '    cpu: 500m', '    memory: 512Mi',
        'command:', '  - mage', '  - start', '  - project',
        'port: 6789',
        'nodeSelector:', '  kubernetes.io/os: linux',
        'tolerations:', '  - key: dedicated', '    operator: Equal', '    value: data', '    effect: NoSchedule',
        '',
      ].join('\n'),
    );
  });

  test('a long value is never folded over lines, and equal lists are not turned into aliases', () => {
    const long = 'x'.repeat(200);
    const yaml = renderContainerConfig({ command: ['a', 'b'], args: ['a', 'b'], env: [{ name: 'LONG', value: `${long} ${long}` }] });
    assert.equal(yaml, `env:\n  - name: LONG\n    value: ${long} ${long}\ncommand:\n  - a\n  - b\nargs:\n  - a\n  - b\n`);
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
        assert.deepEqual(mergeContainerConfig({}, patch, DEFAULT_IMAGE), mergeContainerConfig({}, config, DEFAULT_IMAGE));
        assert.equal(renderContainerConfig(mergeContainerConfig({}, patch, DEFAULT_IMAGE)), yaml);
      }),
      { numRuns: 300 },
    );
  });
});
