import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyImageTag, imageRepository, imageTag, isImageReference, isImageTag } from '../../src/core/image.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('image references', () => {
  test('accepts the usual forms', () => {
    for (const ref of ['mageai/mageai', 'mageai/mageai:0.9.76', 'busybox', 'localhost:5000/team/img:dev', 'ghcr.io/org/a-b_c.d:v1', `img@${DIGEST}`, `r.io/img:1@${DIGEST}`]) {
      assert.ok(isImageReference(ref), ref);
    }
  });

  test('refuses what no registry would take', () => {
    for (const ref of ['', 'UPPER/case', 'img:', 'img:-bad', 'a b', 'img@sha256:short', '/img', 'img//x']) {
      assert.ok(!isImageReference(ref), ref);
    }
  });

  test('tags', () => {
    assert.ok(isImageTag('2026.06.16'));
    assert.ok(isImageTag('latest'));
    assert.ok(!isImageTag('.hidden'));
    assert.ok(!isImageTag('a'.repeat(129)));
    assert.ok(!isImageTag('a/b'));
  });

  test('imageTag reads the tag, not a registry port', () => {
    assert.equal(imageTag('mageai/mageai:0.9'), '0.9');
    assert.equal(imageTag('localhost:5000/img'), undefined);
    assert.equal(imageTag('localhost:5000/img:v2'), 'v2');
    assert.equal(imageTag(`img@${DIGEST}`), undefined);
    assert.equal(imageTag(`img:v3@${DIGEST}`), 'v3');
    assert.equal(imageRepository(`host:5000/a/b:v3@${DIGEST}`), 'host:5000/a/b');
  });

  test('applyImageTag replaces only the tag and drops a digest', () => {
    assert.equal(applyImageTag('mageai/mageai:latest', '2026.06.16'), 'mageai/mageai:2026.06.16');
    assert.equal(applyImageTag('mageai/mageai', 'v1'), 'mageai/mageai:v1');
    assert.equal(applyImageTag('host:5000/img:old', 'new'), 'host:5000/img:new');
    assert.equal(applyImageTag('host:5000/img', 'new'), 'host:5000/img:new');
    assert.equal(applyImageTag(`img:1@${DIGEST}`, '2'), 'img:2');
  });
});
