// Splits a command line into words the way a POSIX shell would, without expanding anything:
// Mage accepts post_start.command (and we accept command/args) as one string.

export type SplitResult = { words: string[] } | { error: string };

const BLANK = new Set([' ', '\t', '\n', '\r']);
/** Inside double quotes a backslash only escapes these; elsewhere it stays (as in sh). */
const DQUOTE_ESCAPABLE = new Set(['$', '`', '"', '\\', '\n']);

export function splitShellWords(line: string): SplitResult {
  const words: string[] = [];
  let word = '';
  // A word exists once any of its characters (or an empty pair of quotes) was seen.
  let inWord = false;
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (BLANK.has(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i++;
    } else if (c === '\\') {
      if (i + 1 >= line.length) return { error: 'ends with a backslash that escapes nothing' };
      // Backslash-newline continues the line, as in sh.
      if (line[i + 1] !== '\n') {
        word += line[i + 1];
        inWord = true;
      }
      i += 2;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) return { error: 'has a single quote that is never closed' };
      word += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      let closed = false;
      while (i < line.length) {
        const d = line[i]!;
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === '\\' && i + 1 < line.length && DQUOTE_ESCAPABLE.has(line[i + 1]!)) {
          if (line[i + 1] !== '\n') word += line[i + 1];
          i += 2;
        } else {
          word += d;
          i++;
        }
      }
      if (!closed) return { error: 'has a double quote that is never closed' };
      inWord = true;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return { words };
}

/** Quotes words so that splitShellWords gives them back; used to show a command as one line. */
export function joinShellWords(words: readonly string[]): string {
  return words
    .map((w) => (w !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replaceAll("'", `'\\''`)}'`))
    .join(' ');
}
