import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { joinShellWords, splitShellWords } from '../../src/core/shell-words.js';

describe('splitShellWords', () => {
  const cases: [string, string[]][] = [
    ['echo hello world', ['echo', 'hello', 'world']],
    ['  spaced \t out\n', ['spaced', 'out']],
    [`sh -c "echo \\"hi\\"; exit 1"`, ['sh', '-c', 'echo "hi"; exit 1']],
    [`echo 'it''s' "$HOME"`, ['echo', 'its', '$HOME']],
    [`echo 'a "b" \\c'`, ['echo', 'a "b" \\c']],
    [`a\\ b c`, ['a b', 'c']],
    [`"" ''`, ['', '']],
    [`say "back\\slash \\n"`, ['say', 'back\\slash \\n']],
    ['line \\\ncontinued', ['line', 'continued']],
    ['', []],
  ];
  for (const [line, words] of cases) {
    test(JSON.stringify(line), () => assert.deepEqual(splitShellWords(line), { words }));
  }

  test('reports unclosed quotes and a trailing backslash', () => {
    assert.deepEqual(splitShellWords(`echo 'open`), { error: 'has a single quote that is never closed' });
    assert.deepEqual(splitShellWords(`echo "open`), { error: 'has a double quote that is never closed' });
    assert.deepEqual(splitShellWords('echo \\'), { error: 'ends with a backslash that escapes nothing' });
  });

  test('joinShellWords quotes so that splitting gives the words back', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme' })), (words) => {
        assert.deepEqual(splitShellWords(joinShellWords(words)), { words });
      }),
    );
  });
});
