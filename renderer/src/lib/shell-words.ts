// POSIX shell quoting, for the "copy as CLI" command and for the custom runtime's command
// field. Only quoting and splitting: nothing here ever runs a shell (the engine takes argv).

const SAFE = /^[A-Za-z0-9_./:=@%+,^-]+$/;

/** Quotes one argument so that sh, bash and zsh read it back unchanged. */
export function shellQuote(arg: string): string {
  if (arg === '') return "''";
  if (SAFE.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export class ShellWordsError extends Error {
  override name = 'ShellWordsError';
}

/**
 * Splits a command line into words the way sh would, for quoting only (no expansion):
 * single quotes are literal, double quotes honour \" \\ \$ \`, a backslash outside quotes
 * escapes the next character.
 */
export function splitShellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new ShellWordsError('unterminated single quote');
      word += line.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === '\\' && j + 1 < line.length && '"\\$`'.includes(line[j + 1] as string)) j++;
        word += line[j];
      }
      if (j >= line.length) throw new ShellWordsError('unterminated double quote');
      inWord = true;
      i = j;
    } else if (c === '\\') {
      if (i + 1 >= line.length) throw new ShellWordsError('trailing backslash');
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}
