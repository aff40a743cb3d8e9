import { describe, expect, it } from 'vitest';
import { editorLanguage } from './editor-language';

describe('editorLanguage', () => {
  it('follows the runtime, and the program for custom images', () => {
    expect(editorLanguage('python', 'node -e')).toBe('python');
    expect(editorLanguage('node', '')).toBe('javascript');
    expect(editorLanguage('custom', 'python3 -c')).toBe('python');
    expect(editorLanguage('custom', '/usr/local/bin/node -e')).toBe('javascript');
    expect(editorLanguage('custom', 'bash -c')).toBe('shell');
    expect(editorLanguage('custom', 'ls')).toBe('plaintext');
  });
});
