import { describe, expect, it } from 'vitest';
import { shellQuote, splitShellWords } from './shell-words';

describe('shellQuote', () => {
  it.each([
    ['python3', 'python3'],
    ['--memory=256', '--memory=256'],
    ['', "''"],
    ['a b', "'a b'"],
    ["it's", `'it'\\''s'`],
    ['$HOME; rm -rf /', "'$HOME; rm -rf /'"],
    ['print("hi")\nprint(2)', `'print("hi")\nprint(2)'`],
  ])('leaves safe words alone and quotes the rest: %j is %j', (word, quoted) => {
    expect(shellQuote(word)).toBe(quoted);
  });

  it('round-trips through splitShellWords', () => {
    const args = ['python3', '-c', "print('a b')\n$x `y` \"z\" \\", '', 'plain'];
    expect(splitShellWords(args.map(shellQuote).join(' '))).toEqual(args);
  });
});

describe('splitShellWords', () => {
  it('splits on whitespace and honours quotes and escapes', () => {
    expect(splitShellWords('  python3   -c ')).toEqual(['python3', '-c']);
    expect(splitShellWords(`sh -c "echo \\"hi\\" \\$x" 'a'"b" c\\ d`)).toEqual(['sh', '-c', 'echo "hi" $x', 'ab', 'c d']);
    expect(splitShellWords("''")).toEqual(['']);
  });

  it('refuses unterminated quotes', () => {
    expect(() => splitShellWords("python3 -c 'oops")).toThrow(/single quote/);
    expect(() => splitShellWords('a "b')).toThrow(/double quote/);
  });
});
