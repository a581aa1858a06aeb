// JsonBytes must produce exactly the bytes of the text it was given in pieces, integers included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { JsonBytes } from '../../src/server/json-bytes.js';

const piece = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 20 }).map((s) => ({ kind: 'text' as const, s })),
  fc.string({ unit: 'binary', maxLength: 20 }).map((s) => ({ kind: 'bytes' as const, s })),
  fc.oneof(fc.constantFrom(0, 9, 10, 99, 100, Number.MAX_SAFE_INTEGER), fc.nat(), fc.maxSafeNat()).map((n) => ({ kind: 'integer' as const, n })),
);

test('JsonBytes joins text, bytes and integers into the UTF-8 of their concatenation', () => {
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 30 }), (pieces) => {
      const out = new JsonBytes();
      let expected = '';
      for (const p of pieces) {
        if (p.kind === 'integer') {
          out.integer(p.n);
          expected += String(p.n);
        } else {
          if (p.kind === 'text') out.text(p.s);
          else out.bytes(Buffer.from(p.s));
          expected += p.s;
        }
      }
      assert.deepEqual(out.toBuffer(), Buffer.from(expected));
    }),
    { numRuns: 500 },
  );
});

test('JsonBytes refuses what is not a non-negative safe integer', () => {
  for (const bad of [-1, 1.5, NaN, Infinity, Number.MAX_SAFE_INTEGER + 1]) {
    assert.throws(() => new JsonBytes().integer(bad), RangeError, String(bad));
  }
});
