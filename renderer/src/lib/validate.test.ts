import { describe, expect, it } from 'vitest';
import { emptyForm, type FormState } from './form-state';
import {
  hasErrors,
  validateCommand,
  validateEnvName,
  validateForm,
  validateImage,
  validateNumber,
  validatePackage,
  validateWorkingDir,
} from './validate';

const form = (patch: Partial<FormState>): FormState => ({ ...emptyForm(), ...patch });

describe('validateNumber', () => {
  it.each([
    ['memoryMb', ''],
    ['memoryMb', ' 256 '],
    ['cpuCores', '0.5'],
    ['cpuCores', '.25'],
  ] as const)('accepts empty (the default) and sane values: %s %j', (field, value) => {
    expect(validateNumber(field, value)).toBeUndefined();
  });

  it.each([
    ['memoryMb', 'abc', /^Enter a whole number of MB$/],
    ['memoryMb', '-5', /^Must not be negative$/],
    ['memoryMb', '4', /^Docker needs at least 6 MB$/],
    ['memoryMb', '1.5', /^Enter a whole number of MB$/],
    ['timeoutSeconds', '0', /at least 1 s/],
    ['timeoutSeconds', '99999999', /^At most 604,800 s/],
    ['cpuCores', '0.001', /at least 0.01/],
    ['cpuCores', '1e3', /Enter a number/],
  ] as const)('explains bad input: %s %j', (field, value, message) => {
    expect(validateNumber(field, value)).toMatch(message);
  });
});

describe('validatePackage', () => {
  it.each([
    ...['requests', 'requests==2.31.0', 'uvicorn[standard]>=0.20,<1', 'zope.interface', '/tmp/x-1.0-py3-none-any.whl'].map((p) => ['python', p] as const),
    ...['lodash', 'lodash@^4.17.21', '@types/node@20', 'left-pad@latest', '/tmp/pkg-1.0.0.tgz'].map((p) => ['node', p] as const),
  ])('accepts pip requirements and npm specs: %s %s', (runtime, spec) => {
    expect(validatePackage(spec, runtime)).toBeUndefined();
  });

  it.each([
    ['python', 'requests; rm -rf /', /^A package spec has no spaces$/],
    ['python', 'requests;rm', /Not a pip requirement/],
    ['python', '--index-url=http://evil', /installer option/],
    ['node', '-e .', /installer option/],
    ['node', 'Lodash', /Not an npm package/],
    ['python', '/tmp/x.txt', /\.whl/],
    // The engine refuses a local path that climbs out of its packages directory.
    ['python', '/home/me/.loom/packages/../../secret/x-1.0-py3-none-any.whl', /packages directory: no '\.\.'/],
    ['node', '/home/me/.loom/packages/sub/../pkg-1.0.0.tgz', /no '\.\.'/],
    ['custom', 'requests', /custom image/],
  ] as const)('refuses injections, options and spaces: %s %j', (runtime, spec, message) => {
    expect(validatePackage(spec, runtime)).toMatch(message);
  });
});

describe('validateEnvName', () => {
  it.each(['API_KEY', '_x1'])('follows the engine: accepts %s', (name) => {
    expect(validateEnvName(name)).toBeUndefined();
  });

  it.each([
    ['1ABC', /not starting with a digit/],
    ['MY-VAR', /Letters, digits/],
    ['LOOM_TRACE_ID', /reserved for Loom/],
    ['loom_x', /reserved for Loom/],
  ])('follows the engine: refuses %s', (name, message) => {
    expect(validateEnvName(name)).toMatch(message);
  });
});

describe('other fields', () => {
  it('checks image references; custom needs one', () => {
    expect(validateImage('', 'python')).toBeUndefined();
    expect(validateImage('', 'custom')).toMatch(/needs an image/);
    expect(validateImage('127.0.0.1:5000/team/app:v1', 'custom')).toBeUndefined();
    expect(validateImage('Bad Image', 'python')).toMatch(/Not an image reference/);
  });

  it('wants an absolute working dir', () => {
    expect(validateWorkingDir('')).toBeUndefined();
    expect(validateWorkingDir('/work')).toBeUndefined();
    expect(validateWorkingDir('work')).toMatch(/absolute/);
  });

  it('reads the command as shell words', () => {
    expect(validateCommand('python3 -c')).toBeUndefined();
    expect(validateCommand('  ')).toMatch(/Enter the program/);
    expect(validateCommand("sh -c 'x")).toMatch(/unterminated/);
  });
});

describe('validateForm', () => {
  it('is clean for the empty form', () => {
    expect(hasErrors(validateForm(emptyForm(), 'python'))).toBe(false);
  });

  it('keys env messages by row and ignores blank rows', () => {
    const errors = validateForm(
      form({
        env: [
          { id: 1, name: 'OK', value: '1' },
          { id: 2, name: '', value: '' },
          { id: 3, name: 'LOOM_X', value: '1' },
          { id: 4, name: 'OK', value: '2' },
        ],
      }),
      'python',
    );
    expect(errors).toEqual({ 'env.3.name': expect.stringMatching(/reserved/), 'env.4.name': 'OK is set twice' });
  });

  it('flags a pending package draft and chips that do not fit the runtime', () => {
    const errors = validateForm(form({ packageDraft: 'requests; rm -rf /', packages: ['requests==2.0'] }), 'node');
    expect(errors['packageDraft']).toBeDefined();
    expect(errors['packages.0']).toMatch(/npm/);
  });

  it('needs a command', () => {
    expect(validateForm(form({ command: '' }), 'python')['command']).toMatch(/Enter the program/);
  });
});
