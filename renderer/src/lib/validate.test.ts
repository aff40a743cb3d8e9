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
  it('accepts empty (the default) and sane values', () => {
    expect(validateNumber('memoryMb', '')).toBeUndefined();
    expect(validateNumber('memoryMb', ' 256 ')).toBeUndefined();
    expect(validateNumber('cpuCores', '0.5')).toBeUndefined();
    expect(validateNumber('cpuCores', '.25')).toBeUndefined();
  });

  it('explains bad input', () => {
    expect(validateNumber('memoryMb', 'abc')).toBe('Enter a whole number of MB');
    expect(validateNumber('memoryMb', '-5')).toBe('Must not be negative');
    expect(validateNumber('memoryMb', '4')).toBe('Docker needs at least 6 MB');
    expect(validateNumber('memoryMb', '1.5')).toBe('Enter a whole number of MB');
    expect(validateNumber('timeoutSeconds', '0')).toMatch(/at least 1 s/);
    expect(validateNumber('timeoutSeconds', '99999999')).toMatch(/^At most 604,800 s/);
    expect(validateNumber('cpuCores', '0.001')).toMatch(/at least 0.01/);
    expect(validateNumber('cpuCores', '1e3')).toMatch(/Enter a number/);
  });
});

describe('validatePackage', () => {
  it('accepts pip requirements and npm specs', () => {
    for (const p of ['requests', 'requests==2.31.0', 'uvicorn[standard]>=0.20,<1', 'zope.interface', '/tmp/x-1.0-py3-none-any.whl']) {
      expect(validatePackage(p, 'python'), p).toBeUndefined();
    }
    for (const p of ['lodash', 'lodash@^4.17.21', '@types/node@20', 'left-pad@latest', '/tmp/pkg-1.0.0.tgz']) {
      expect(validatePackage(p, 'node'), p).toBeUndefined();
    }
  });

  it('refuses injections, options and spaces', () => {
    expect(validatePackage('requests; rm -rf /', 'python')).toBe('A package spec has no spaces');
    expect(validatePackage('requests;rm', 'python')).toMatch(/Not a pip requirement/);
    expect(validatePackage('--index-url=http://evil', 'python')).toMatch(/installer option/);
    expect(validatePackage('-e .', 'node')).toMatch(/installer option/);
    expect(validatePackage('Lodash', 'node')).toMatch(/Not an npm package/);
    expect(validatePackage('/tmp/x.txt', 'python')).toMatch(/\.whl/);
    // The engine refuses a local path that climbs out of its packages directory.
    expect(validatePackage('/home/me/.loom/packages/../../secret/x-1.0-py3-none-any.whl', 'python')).toMatch(/packages directory: no '\.\.'/);
    expect(validatePackage('/home/me/.loom/packages/sub/../pkg-1.0.0.tgz', 'node')).toMatch(/no '\.\.'/);
    expect(validatePackage('requests', 'custom')).toMatch(/custom image/);
  });
});

describe('validateEnvName', () => {
  it('follows the engine', () => {
    expect(validateEnvName('API_KEY')).toBeUndefined();
    expect(validateEnvName('_x1')).toBeUndefined();
    expect(validateEnvName('1ABC')).toMatch(/not starting with a digit/);
    expect(validateEnvName('MY-VAR')).toMatch(/Letters, digits/);
    expect(validateEnvName('LOOM_TRACE_ID')).toMatch(/reserved for Loom/);
    expect(validateEnvName('loom_x')).toMatch(/reserved for Loom/);
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
