import { describe, expect, it } from 'vitest';
import { provisionalTitle } from './run-title';

describe('provisionalTitle', () => {
  it('takes the first line that says something', () => {
    expect(provisionalTitle({ command: ['python3', '-c', 'import os\n\n# list files\nprint(1)'] })).toBe('list files');
    expect(provisionalTitle({ command: ['node', '-e', "const x = require('y');\nconsole.log(x)"] })).toBe('console.log(x)');
    expect(provisionalTitle({ command: ['ls', '-la'] })).toBe('ls -la');
    expect(provisionalTitle({ command: ['python3', '-c', 'x'.repeat(100)] })).toHaveLength(80);
  });
});
