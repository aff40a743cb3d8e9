import { describe, expect, it } from 'vitest';
import { editorLanguage } from './editor-language';

describe('editorLanguage', () => {
  it.each([
    ['python', 'node -e', 'python'],
    ['node', '', 'javascript'],
    ['custom', 'python3 -c', 'python'],
    ['custom', '/usr/local/bin/node -e', 'javascript'],
    ['custom', 'bash -c', 'shell'],
    ['custom', 'ls', 'plaintext'],
  ] as const)('follows the runtime, and the program for custom images: %s with %j is %s', (runtime, command, language) => {
    expect(editorLanguage(runtime, command)).toBe(language);
  });
});
