import { describe, expect, it } from 'vitest';
import { provisionalTitle } from './run-title';

describe('provisionalTitle', () => {
  it.each([
    [['python3', '-c', 'import os\n\n# list files\nprint(1)'], 'list files'],
    [['node', '-e', "const x = require('y');\nconsole.log(x)"], 'console.log(x)'],
    [['ls', '-la'], 'ls -la'],
  ])('takes the first line that says something: %j is %j', (command, title) => {
    expect(provisionalTitle({ command })).toBe(title);
  });

  it('cuts a long line to 80 characters', () => {
    expect(provisionalTitle({ command: ['python3', '-c', 'x'.repeat(100)] })).toHaveLength(80);
  });
});
