import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuShares, memoryBytes, nanoCpus, parseQuantity } from '../../../src/runtimes/docker/quantity.js';
import { PermanentRuntimeError } from '../../../src/core/runtime.js';

describe('Kubernetes quantities for Docker', () => {
  test('memory with binary and decimal suffixes and exponents', () => {
    assert.equal(memoryBytes('512Mi'), 512 * 1024 * 1024);
    assert.equal(memoryBytes('1Gi'), 1073741824);
    assert.equal(memoryBytes('100M'), 100_000_000);
    assert.equal(memoryBytes('1k'), 1000);
    assert.equal(memoryBytes('129e6'), 129_000_000);
    assert.equal(memoryBytes('128974848'), 128974848);
    assert.equal(memoryBytes('1.5Gi'), 1.5 * 2 ** 30);
  });

  test('cpu in cores and millicores', () => {
    assert.equal(nanoCpus('500m'), 500_000_000);
    assert.equal(nanoCpus('2'), 2_000_000_000);
    assert.equal(nanoCpus('0.25'), 250_000_000);
    assert.equal(cpuShares('1'), 1024);
    assert.equal(cpuShares('1m'), 2, 'Docker rejects shares below 2');
  });

  test('garbage is a permanent error naming the field', () => {
    for (const bad of ['', 'lots', '1Gb', '12 Mi', '-1', 'Mi']) {
      assert.throws(
        () => parseQuantity(bad, 'resources.limits.memory'),
        (err: unknown) =>
          err instanceof PermanentRuntimeError && err.reason === 'InvalidConfig' && err.message.startsWith('resources.limits.memory: '),
        `"${bad}" should be rejected`,
      );
    }
  });
});
