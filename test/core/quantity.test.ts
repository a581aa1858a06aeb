import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isPositiveQuantity, isQuantity } from '../../src/core/quantity.js';

test('Kubernetes quantities', () => {
  for (const q of ['500m', '1', '0.5', '.5', '2Gi', '512Mi', '1e3', '1E-2', '100k', '+1', '0', '1.']) assert.ok(isQuantity(q), q);
  for (const q of ['lots', '-1', '1gi', '1 Gi', '', 'Gi', '1.5.5', '1KiB', '0x10']) assert.ok(!isQuantity(q), q);
});

test('positive quantities refuse zero', () => {
  assert.ok(isPositiveQuantity('2Gi'));
  assert.ok(isPositiveQuantity('0.5Gi'));
  assert.ok(!isPositiveQuantity('0Gi'));
  assert.ok(!isPositiveQuantity('0'));
  assert.ok(!isPositiveQuantity('0e5'));
});
