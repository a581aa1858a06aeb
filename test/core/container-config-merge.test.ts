import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mergeContainerConfig, parseContainerConfig } from '../../src/core/container-config.js';
import type { ContainerConfig } from '../../src/core/types.js';
import { containerConfig, containerPatch } from './arbitraries.js';

/** The image image_tag retags when a config names none (the server's default). */
const DEFAULT_IMAGE = 'mageai/mageai:latest';

const patchOf = (yaml: string) => {
  const { patch, errors } = parseContainerConfig(yaml);
  assert.deepEqual(errors, []);
  return patch;
};

const current: ContainerConfig = {
  image: 'registry.local:5000/mage:1.0',
  env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }, { name: 'C', value: '3' }],
  resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '500m' } },
  command: ['mage', 'start'],
  labels: { team: 'data' },
};

describe('mergeContainerConfig', () => {
  test('env: values replaced in place, new names appended in order, unset_env removes', () => {
    const merged = mergeContainerConfig(current, patchOf('env:\n  - {name: B, value: two}\n  - {name: D, value: "4"}\n  - {name: E, value: "5"}\nunset_env: [A, NOT_THERE]'), DEFAULT_IMAGE);
    assert.deepEqual(merged.env, [
      { name: 'B', value: 'two' },
      { name: 'C', value: '3' },
      { name: 'D', value: '4' },
      { name: 'E', value: '5' },
    ]);
  });

  test('removing every variable leaves no env key', () => {
    assert.equal('env' in mergeContainerConfig(current, patchOf('unset_env: [A, B, C]'), DEFAULT_IMAGE), false);
  });

  test('resources merge key by key; null removes one quantity', () => {
    const merged = mergeContainerConfig(current, patchOf('resources:\n  limits: {memory: 2Gi, cpu: null, nvidia.com/gpu: 1}\n  requests: {memory: 1Gi}'), DEFAULT_IMAGE);
    assert.deepEqual(merged.resources, { limits: { memory: '2Gi', 'nvidia.com/gpu': '1' }, requests: { cpu: '500m', memory: '1Gi' } });
  });

  test('other keys are replaced, not merged', () => {
    const merged = mergeContainerConfig(current, patchOf('command: [sleep, infinity]\nlabels: {owner: me}'), DEFAULT_IMAGE);
    assert.deepEqual(merged.command, ['sleep', 'infinity']);
    assert.deepEqual(merged.labels, { owner: 'me' });
  });

  test('a key set to null goes back to the default', () => {
    const merged = mergeContainerConfig(current, patchOf('command: null\nresources: null'), DEFAULT_IMAGE);
    assert.equal(merged.command, undefined);
    assert.equal(merged.resources, undefined);
    assert.equal(merged.image, current.image);
  });

  test('image_tag changes only the tag of the current image, keeping a registry port', () => {
    assert.equal(mergeContainerConfig(current, patchOf('image_tag: 2026.06.16'), DEFAULT_IMAGE).image, 'registry.local:5000/mage:2026.06.16');
  });

  test('image_tag applies to the image of the same patch', () => {
    assert.equal(mergeContainerConfig(current, patchOf('image: other/img@sha256:' + 'f'.repeat(64) + '\nimage_tag: v9'), DEFAULT_IMAGE).image, 'other/img:v9');
  });

  test('image_tag without any image retags the default image', () => {
    assert.equal(mergeContainerConfig({}, patchOf('image_tag: v1'), 'mageai/mageai:latest').image, 'mageai/mageai:v1');
  });

  test('an empty patch changes nothing', () => {
    assert.deepEqual(mergeContainerConfig(current, patchOf(''), DEFAULT_IMAGE), current);
  });

  test('inputs are not mutated', () => {
    fc.assert(
      fc.property(containerConfig, containerPatch, (config, patch) => {
        const before = structuredClone(config);
        const patchBefore = structuredClone(patch);
        const merged = mergeContainerConfig(config, patch, DEFAULT_IMAGE);
        if (merged.env) merged.env.push({ name: 'ZZ', value: 'z' });
        assert.deepEqual(config, before);
        assert.deepEqual(patch, patchBefore);
      }),
    );
  });

  test('applying the same patch twice is the same as once', () => {
    fc.assert(
      fc.property(containerConfig, containerPatch, (config, patch) => {
        const once = mergeContainerConfig(config, patch, DEFAULT_IMAGE);
        assert.deepEqual(mergeContainerConfig(once, patch, DEFAULT_IMAGE), once);
      }),
    );
  });

  test('env names stay unique and every patched value is what the patch said', () => {
    fc.assert(
      fc.property(containerConfig, containerPatch, (config, patch) => {
        const env = mergeContainerConfig(config, patch, DEFAULT_IMAGE).env ?? [];
        const names = env.map((v) => v.name);
        assert.equal(new Set(names).size, names.length);
        for (const v of patch.env ?? []) assert.deepEqual(env.find((e) => e.name === v.name), v);
        for (const n of patch.unset_env ?? []) assert.ok(!names.includes(n));
      }),
    );
  });
});
