import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkInheritPattern, effectiveEnv, isEnvName, selectInheritedEnv } from '../../src/core/env.js';
import type { EnvVar } from '../../src/core/types.js';
import { envList, envName, envValue } from './arbitraries.js';

const cluster: EnvVar[] = [
  { name: 'DEV_ENV_DB', value: 'db' },
  { name: 'DEV_ENV_KEY', value: 'k' },
  { name: 'AWS_REGION', value: 'eu' },
  { name: 'SECRET', value: 's' },
  { name: 'MY_DEV_ENV_X', value: 'x' },
];
const names = (vars: EnvVar[]) => vars.map((v) => v.name);

describe('selectInheritedEnv', () => {
  test('no patterns inherits everything', () => {
    assert.deepEqual(selectInheritedEnv(cluster, []), cluster);
  });

  test('exact names, * globs (anchored) and /regexes/, in cluster order', () => {
    assert.deepEqual(names(selectInheritedEnv(cluster, ['SECRET'])), ['SECRET']);
    assert.deepEqual(names(selectInheritedEnv(cluster, ['DEV_ENV_*'])), ['DEV_ENV_DB', 'DEV_ENV_KEY']);
    assert.deepEqual(names(selectInheritedEnv(cluster, ['*_X', 'AWS_REGION'])), ['AWS_REGION', 'MY_DEV_ENV_X']);
    assert.deepEqual(names(selectInheritedEnv(cluster, ['/^AWS_|KEY$/'])), ['DEV_ENV_KEY', 'AWS_REGION']);
    assert.deepEqual(names(selectInheritedEnv(cluster, ['/secret/i'])), ['SECRET']);
  });

  test('glob characters other than * are literal', () => {
    const vars = [{ name: 'A.B', value: '1' }, { name: 'AXB', value: '2' }];
    assert.deepEqual(names(selectInheritedEnv(vars, ['A.*'])), ['A.B']);
  });

  test('an invalid pattern matches nothing and checkInheritPattern says why', () => {
    assert.deepEqual(selectInheritedEnv(cluster, ['/(/']), []);
    assert.match(checkInheritPattern('/(/')!, /not a valid regular expression/);
    assert.match(checkInheritPattern('')!, /variable name, a glob/);
    assert.equal(checkInheritPattern('DEV_*'), undefined);
  });
});

describe('effectiveEnv', () => {
  test("the workspace's own value wins; inherited first, own after", () => {
    const result = effectiveEnv(
      [{ name: 'A', value: 'cluster' }, { name: 'B', value: 'cluster' }],
      [{ name: 'B', value: 'mine' }, { name: 'C', value: 'mine' }],
    );
    assert.deepEqual(result, [
      { name: 'A', value: 'cluster' },
      { name: 'B', value: 'mine' },
      { name: 'C', value: 'mine' },
    ]);
  });

  test('names are unique, own values always win, nothing is lost', () => {
    const dupes = fc.array(fc.record({ name: envName, value: envValue }, { noNullPrototype: true }), { maxLength: 8 });
    fc.assert(
      fc.property(dupes, envList, (inherited, own) => {
        const result = effectiveEnv(inherited, own);
        const resultNames = names(result);
        assert.equal(new Set(resultNames).size, resultNames.length);
        for (const v of own) assert.deepEqual(result.find((r) => r.name === v.name), v);
        assert.deepEqual(new Set(resultNames), new Set([...names(inherited), ...names(own)]));
      }),
    );
  });

  test('variable names', () => {
    assert.ok(isEnvName('_A1'));
    assert.ok(!isEnvName('1A'));
    assert.ok(!isEnvName('A-B'));
  });
});
