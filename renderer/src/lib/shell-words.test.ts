import { describe, expect, it } from 'vitest';
import { shellQuote, splitShellWords } from './shell-words';

describe('shellQuote', () => {
  it('leaves safe words alone and quotes the rest', () => {
    expect(shellQuote('python3')).toBe('python3');
    expect(shellQuote('--memory=256')).toBe('--memory=256');
    expect(shellQuote('')).toBe("''");
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote('$HOME; rm -rf /')).toBe("'$HOME; rm -rf /'");
    expect(shellQuote('print("hi")\nprint(2)')).toBe(`'print("hi")\nprint(2)'`);
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
