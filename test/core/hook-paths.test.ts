import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveHookPathLexically } from '../../src/core/hook-paths.js';

const DIR = '/srv/wsm/hooks';

describe('resolveHookPathLexically', () => {
  test('relative paths resolve inside the hooks directory', () => {
    assert.deepEqual(resolveHookPathLexically(DIR, 'setup.sh'), { relative: 'setup.sh' });
    assert.deepEqual(resolveHookPathLexically(DIR, './team/a/../setup.sh'), { relative: 'team/setup.sh' });
  });

  test('absolute paths inside the directory are accepted', () => {
    assert.deepEqual(resolveHookPathLexically(DIR, '/srv/wsm/hooks/team/setup.sh'), { relative: 'team/setup.sh' });
    assert.deepEqual(resolveHookPathLexically(`${DIR}/`, '/srv/wsm/hooks//x.sh'), { relative: 'x.sh' });
  });

  test('anything that escapes is refused and the message says where scripts must live', () => {
    for (const p of ['../secret.sh', 'team/../../x', '..', '/etc/passwd', '/srv/wsm/hooks/../db.sqlite', '/srv/wsm/hooks-other/x.sh']) {
      const r = resolveHookPathLexically(DIR, p);
      assert.ok('error' in r, p);
      assert.match(r.error, /hooks directory \/srv\/wsm\/hooks/, p);
    }
  });

  test('the directory itself, an empty path and NUL are refused', () => {
    for (const p of ['', '.', './', DIR, `${DIR}/`, 'a\0b']) assert.ok('error' in resolveHookPathLexically(DIR, p), JSON.stringify(p));
  });
});
