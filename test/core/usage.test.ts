import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { usageActivity, type UsageThresholds } from '../../src/core/usage.js';

const t: UsageThresholds = { cpu_cores: 0.1, net_bytes_per_second: 1000 };

describe('usageActivity', () => {
  test('CPU above the threshold is activity from source cpu', () => {
    assert.deepEqual(usageActivity({ at: 0, cpu_seconds: 10 }, { at: 10_000, cpu_seconds: 15 }, t), { source: 'cpu', rate: 0.5 });
  });
  test('CPU at or below the threshold is not', () => {
    assert.equal(usageActivity({ at: 0, cpu_seconds: 10 }, { at: 10_000, cpu_seconds: 11 }, t), undefined);
  });
  test('network above the threshold is activity from source network', () => {
    assert.deepEqual(usageActivity({ at: 0, cpu_seconds: 1, net_bytes: 0 }, { at: 2_000, cpu_seconds: 1, net_bytes: 4_000 }, t), { source: 'network', rate: 2000 });
  });
  test('a counter that went down (a restart in between) says nothing', () => {
    assert.equal(usageActivity({ at: 0, cpu_seconds: 100, net_bytes: 1e9 }, { at: 10_000, cpu_seconds: 1, net_bytes: 5 }, t), undefined);
  });
  test('a zero threshold turns the signal off, and no time between samples concludes nothing', () => {
    assert.equal(usageActivity({ at: 0, cpu_seconds: 0 }, { at: 1000, cpu_seconds: 1 }, { cpu_cores: 0, net_bytes_per_second: 0 }), undefined);
    assert.equal(usageActivity({ at: 1000, cpu_seconds: 0 }, { at: 1000, cpu_seconds: 5 }, t), undefined);
  });
  test('property: activity is reported exactly when a rate exceeds its threshold', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 600_000 }), fc.double({ min: 0, max: 100, noNaN: true }), fc.double({ min: 0, max: 1e6, noNaN: true }), (ms, cpuUsed, netUsed) => {
        const result = usageActivity({ at: 0, cpu_seconds: 0, net_bytes: 0 }, { at: ms, cpu_seconds: cpuUsed, net_bytes: netUsed }, t);
        const cpuRate = cpuUsed / (ms / 1000);
        const netRate = netUsed / (ms / 1000);
        assert.equal(result !== undefined, cpuRate > t.cpu_cores || netRate > t.net_bytes_per_second);
        if (result?.source === 'cpu') assert.ok(cpuRate > t.cpu_cores);
      }),
    );
  });
});
