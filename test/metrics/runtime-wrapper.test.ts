// The timing wrapper must offer every call the runtime it wraps offers: a call it drops silently turns
// a feature off (a patch's dry run lost the Kubernetes dryRun=All check that way).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { defineFamilies } from '../../src/metrics/families.js';
import { instrumentRuntime } from '../../src/metrics/runtime.js';
import type { Runtime } from '../../src/core/runtime.js';
import { harness } from '../runtimes/kubernetes/helpers.js';

const callsOf = (runtime: object) => {
  const names = new Set<string>();
  for (let o: object | null = runtime; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const key of Object.getOwnPropertyNames(o)) {
      if (key !== 'constructor' && typeof (runtime as Record<string, unknown>)[key] === 'function') names.add(key);
    }
  }
  return names;
};

test('the instrumented Kubernetes runtime offers each call of the Runtime interface that the runtime itself offers', async () => {
  const h = await harness();
  try {
    const wrapped = instrumentRuntime(h.runtime as Runtime, defineFamilies(new Registry()));
    const interfaceCalls: (keyof Runtime)[] = ['apply', 'dryRunApply', 'remove', 'observe', 'listInstances', 'watch', 'exec', 'readPostStart', 'httpGet', 'usage', 'ping', 'close'];
    const offered = callsOf(h.runtime);
    const expected = interfaceCalls.filter((c) => offered.has(c));
    assert.ok(expected.includes('dryRunApply') && expected.includes('exec'), `the Kubernetes runtime offers ${[...offered].join(', ')}`);
    assert.deepEqual(expected.filter((c) => typeof wrapped[c] !== 'function'), [], 'calls the wrapper drops');
  } finally {
    await h.close();
  }
});
