import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deepFreeze, isDeepFrozen } from '../../src/lib/deep-freeze.js';

test('deepFreeze freezes every level, and only its values count as deeply frozen', () => {
  const value = { spec: { env: [{ name: 'A', value: '1' }] } };
  deepFreeze(value);
  assert.throws(() => {
    (value.spec.env[0] as { value: string }).value = '2';
  }, TypeError);
  assert.throws(() => value.spec.env.push({ name: 'B', value: '2' }), TypeError);
  assert.equal(isDeepFrozen(value), true);
  // Frozen on the outside only: its inside can still change, so it must not be kept by identity.
  const shallow = Object.freeze({ env: [{ name: 'A', value: '1' }] });
  assert.equal(isDeepFrozen(shallow), false);
});
