import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { timeOrderedId } from '../../src/core/ids.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('an id is a version 7 UUID whose first 48 bits are the time in milliseconds', () => {
  const id = timeOrderedId(Date.UTC(2026, 10, 28, 12, 0, 0, 123));
  assert.match(id, UUID_V7);
  assert.equal(parseInt(id.replace('-', '').slice(0, 12), 16), Date.UTC(2026, 10, 28, 12, 0, 0, 123));
});

test('ids from later milliseconds sort after earlier ones, and ids never repeat', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 47 }), fc.integer({ min: 1, max: 10 ** 9 }), (t, dt) => {
      const a = timeOrderedId(t);
      const b = timeOrderedId(t + dt);
      assert.match(a, UUID_V7);
      assert.ok(a < b, `${a} < ${b}`);
    }),
  );
  const ids = new Set(Array.from({ length: 10_000 }, () => timeOrderedId(1_000)));
  assert.equal(ids.size, 10_000);
});
