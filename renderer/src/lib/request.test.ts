import { describe, expect, it } from 'vitest';
import { emptyForm, type FormState } from './form-state';
import { buildCommand, buildRequest, requestToDraft, splitCommand, type Draft } from './request';

const draft = (patch: Partial<FormState> = {}, rest: Partial<Omit<Draft, 'form'>> = {}): Draft => ({
  runtime: 'python',
  code: "print('hi')",
  stdin: '',
  ...rest,
  form: { ...emptyForm(rest.runtime ?? 'python'), ...patch },
});

describe('buildRequest', () => {
  it('sends only what the user set: the rest is the engine default', () => {
    expect(buildRequest(draft())).toEqual({
      runtimeType: 'RUNTIME_TYPE_PYTHON',
      command: ['python3', '-c', "print('hi')"],
      config: { runtimeType: 'RUNTIME_TYPE_PYTHON' },
    });
  });

  it('maps every field', () => {
    const request = buildRequest(
      draft(
        {
          image: 'node:20-bookworm',
          packages: ['lodash'],
          packageDraft: 'left-pad@1.3.0',
          cpuCores: '0.5',
          memoryMb: '256',
          storageMb: '64',
          pidsLimit: '50',
          timeoutSeconds: '10',
          network: 'bridge',
          isolation: 'gvisor',
          maxExecutions: '5',
          rotationHours: '2',
          healthCheckSeconds: '30',
          autoCleanup: false,
          env: [
            { id: 1, name: 'A', value: '1' },
            { id: 2, name: '', value: '' },
          ],
          workingDir: '/tmp/w',
          configName: 'agents',
        },
        { runtime: 'node', code: 'console.log(1)', stdin: 'héllo' },
      ),
    );
    expect(request).toEqual({
      runtimeType: 'RUNTIME_TYPE_NODE',
      command: ['node', '-e', 'console.log(1)'],
      config: {
        runtimeType: 'RUNTIME_TYPE_NODE',
        name: 'agents',
        baseImage: 'node:20-bookworm',
        packages: ['lodash', 'left-pad@1.3.0'],
        resourceLimits: { cpuCores: 0.5, memoryMb: '256', storageMb: '64', pidsLimit: 50, executionTimeoutSeconds: 10 },
        lifecycle: { maxExecutions: 5, rotationIntervalHours: 2, healthCheckIntervalSeconds: 30, autoCleanup: false },
        networkMode: 'NETWORK_MODE_BRIDGE',
        isolation: 'ISOLATION_LEVEL_GVISOR',
      },
      env: { A: '1' },
      stdin: 'aMOpbGxv',
      workingDir: '/tmp/w',
    });
  });

  it('puts a custom runtime image in customImage and leaves out an invalid draft package', () => {
    const r = buildRequest(draft({ image: 'me/app:1', command: 'sh -c', packageDraft: 'bad pkg' }, { runtime: 'custom', code: 'echo hi' }));
    expect(r.config?.customImage).toBe('me/app:1');
    expect(r.config?.packages).toBeUndefined();
    expect(r.command).toEqual(['sh', '-c', 'echo hi']);
  });
});

describe('buildCommand / splitCommand', () => {
  it('appends the code, keeps an empty code after -c', () => {
    expect(buildCommand('python3 -c', '')).toEqual(['python3', '-c', '']);
    expect(buildCommand("ls -la '/tmp dir'", '')).toEqual(['ls', '-la', '/tmp dir']);
  });

  it('splits "program -c code" and keeps other commands whole', () => {
    expect(splitCommand(['node', '-e', 'x'], 'node')).toEqual({ command: 'node -e', code: 'x' });
    expect(splitCommand(['python3', 'main.py', 'a b'], 'python')).toEqual({ command: "python3 main.py 'a b'", code: '' });
    expect(splitCommand([], 'node')).toEqual({ command: 'node -e', code: '' });
  });
});

describe('requestToDraft', () => {
  it('round-trips a full request', () => {
    const original = draft(
      {
        image: 'python:3.12-slim',
        packages: ['requests==2.31.0'],
        cpuCores: '2',
        memoryMb: '1024',
        timeoutSeconds: '30',
        network: 'bridge',
        isolation: 'gvisor',
        env: [{ id: 1, name: 'KEY', value: 'v' }],
        workingDir: '/tmp',
        configName: 'x',
        autoCleanup: false,
        preserved: { configEnv: { Z: '1' }, maxOutputBytes: 1000 },
      },
      { stdin: 'input\n' },
    );
    const request = buildRequest(original);
    const back = requestToDraft(request);
    expect(buildRequest(back)).toEqual(request);
    expect(back.code).toBe("print('hi')");
    expect(back.stdin).toBe('input\n');
    expect(back.form.memoryMb).toBe('1024');
    expect(back.form.isolation).toBe('gvisor');
  });

  it('takes a per-run timeout and an arbitrary command', () => {
    const back = requestToDraft({ runtimeType: 'RUNTIME_TYPE_CUSTOM', command: ['ls', '/'], timeoutSeconds: 7, config: { customImage: 'busybox' } });
    expect(back.runtime).toBe('custom');
    expect(back.form.timeoutSeconds).toBe('7');
    expect(back.form.command).toBe('ls /');
    expect(back.code).toBe('');
    expect(buildRequest(back).command).toEqual(['ls', '/']);
  });
});
