import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isDnsLabel, isDnsSubdomain, isLabelValue, isQualifiedName, validateWorkspaceName } from '../../src/core/names.js';

describe('validateWorkspaceName', () => {
  test('accepts lower-case DNS labels up to 55 characters', () => {
    for (const name of ['a', 'ws1', 'my-workspace', 'a'.repeat(55), 'x-1-y']) {
      assert.deepEqual(validateWorkspaceName(name), [], name);
    }
  });

  test('refuses a missing or non-string name and says it is required', () => {
    assert.match(validateWorkspaceName(undefined)[0]!.message, /is required/);
    assert.match(validateWorkspaceName('')[0]!.message, /is required/);
    const [err] = validateWorkspaceName(42);
    assert.equal(err!.field, 'name');
    assert.match(err!.message, /must be a string/);
  });

  test('refuses 56 characters, naming the limit and the length', () => {
    const [err] = validateWorkspaceName('a'.repeat(56));
    assert.match(err!.message, /at most 55 characters.*56/);
  });

  test('refuses upper case, underscores, dots, edges with -, and a leading digit (Service names need a letter)', () => {
    for (const name of ['MyWs', 'my_ws', 'my.ws', '-ws', 'ws-', '1ws', 'ws space', 'wé']) {
      const errors = validateWorkspaceName(name);
      assert.equal(errors.length, 1, name);
      assert.match(errors[0]!.message, /lower-case letters \(a-z\), digits \(0-9\) and '-'/);
    }
  });

  test('uses the field name it is given', () => {
    assert.equal(validateWorkspaceName('BAD', 'workspace')[0]!.field, 'workspace');
  });
});

describe('Kubernetes name rules', () => {
  test('DNS labels and subdomains', () => {
    assert.ok(isDnsLabel('default'));
    assert.ok(isDnsLabel('1abc'));
    assert.ok(!isDnsLabel('a'.repeat(64)));
    assert.ok(!isDnsLabel('a.b'));
    assert.ok(isDnsSubdomain('my-ingress.v1'));
    assert.ok(!isDnsSubdomain(''));
    assert.ok(!isDnsSubdomain('a..b'));
  });

  test('qualified names and label values', () => {
    assert.ok(isQualifiedName('cpu'));
    assert.ok(isQualifiedName('nvidia.com/gpu'));
    assert.ok(isQualifiedName('example.com/Tier_1'));
    assert.ok(!isQualifiedName('/gpu'));
    assert.ok(!isQualifiedName('Bad_Prefix/x'));
    assert.ok(!isQualifiedName('_x'));
    assert.ok(isLabelValue(''));
    assert.ok(isLabelValue('v1.2_3'));
    assert.ok(!isLabelValue('-x'));
    assert.ok(!isLabelValue('a'.repeat(64)));
  });
});
