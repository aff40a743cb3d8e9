import { create } from '@bufbuild/protobuf';
import { mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExecuteRequestSchema, IsolationLevel, NetworkMode, RuntimeType, type ExecuteRequest } from '../../../../shared/gen/loom/v1/docker_pb';
import { DEFAULT_LIMITS } from '../../../../shared/defaults';
import { ValidationError } from '../errors';
import { normalizeRequest, poolKeyOf, type LocalPackagePolicy } from './request';

type Init = Parameters<typeof create<typeof ExecuteRequestSchema>>[1];
const req = (init: Init): ExecuteRequest => create(ExecuteRequestSchema, { command: ['python3', '-c', 'print(1)'], ...init });
const norm = (init: Init, allowHostMounts = false, localPackages: LocalPackagePolicy = 'nowhere') => normalizeRequest(req(init), { allowHostMounts, localPackages });

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err.field;
    throw err;
  }
  throw new Error('expected a ValidationError');
}

describe('normalizeRequest', () => {
  it('takes a source program for a language runtime, with its image and the default compile timeout', () => {
    const n = norm({ runtimeType: RuntimeType.GO, command: [], source: 'package main\nfunc main() {}\n' });
    expect(n.container).toMatchObject({ runtime: 'go', image: 'loom-go:1.19' });
    expect(n.run.source).toEqual({ text: 'package main\nfunc main() {}\n', language: 'go', compileTimeoutMs: 60_000 });
    expect(n.run.argv).toEqual(['go']);
    expect(norm({ runtimeType: RuntimeType.RUBY, command: [], source: 'puts 1', compileTimeoutSeconds: 5 }).run.source?.compileTimeoutMs).toBe(5000);
  });

  it('refuses source with a command, for a custom image, oversized, or with a bad compile timeout; packages for a language', () => {
    expect(fieldOf(() => norm({ runtimeType: RuntimeType.BASH, source: 'echo hi' }))).toBe('command');
    expect(fieldOf(() => norm({ runtimeType: RuntimeType.CUSTOM, command: [], source: 'x', config: { imageSource: { case: 'customImage', value: 'alpine:3' } } }))).toBe('source');
    expect(fieldOf(() => norm({ runtimeType: RuntimeType.BASH, command: [], source: 'x'.repeat(3 * 1024 * 1024) }))).toBe('source');
    expect(fieldOf(() => norm({ runtimeType: RuntimeType.RUST, command: [], source: 'fn main() {}', compileTimeoutSeconds: -1 }))).toBe('compile_timeout_seconds');
    expect(fieldOf(() => norm({ runtimeType: RuntimeType.JAVA, config: { packages: ['guava'] } }))).toBe('config.packages');
    expect(fieldOf(() => norm({ runtimeType: RuntimeType.PYTHON, command: [] }))).toBe('command');
  });

  it("applies the guide's defaults when the request gives none", () => {
    const n = norm({});
    expect(n.container).toMatchObject({
      runtime: 'python',
      image: 'python:3.11-slim',
      cpuCores: DEFAULT_LIMITS.cpuCores,
      memoryMb: 512,
      storageMb: 1024,
      pidsLimit: 100,
      network: 'none',
    });
    expect(n.run.timeoutMs).toBe(300_000);
    expect(n.lifecycle).toEqual({ maxExecutions: 1000, rotationMs: 4 * 3_600_000, healthCheckMs: 60_000, autoCleanup: true });
    expect(n.run.workingDir).toBe('/tmp');
  });

  it('takes the runtime from the config when the request has none, and node gets node:20-slim', () => {
    expect(norm({ config: { runtimeType: RuntimeType.NODE } }).container.image).toBe('node:20-slim');
  });

  it('prefers the per-request timeout over the config limit', () => {
    expect(norm({ timeoutSeconds: 7, config: { resourceLimits: { executionTimeoutSeconds: 60 } } }).run.timeoutMs).toBe(7000);
    expect(norm({ config: { resourceLimits: { executionTimeoutSeconds: 60 } } }).run.timeoutMs).toBe(60_000);
  });

  it.each<[string, string, Init]>([
    ['an unknown runtime', 'runtime_type', { runtimeType: 9 as RuntimeType }],
    ["a config's runtime that contradicts the request's", 'config.runtime_type', { runtimeType: RuntimeType.NODE, config: { runtimeType: RuntimeType.PYTHON } }],
    ['no command', 'command', { command: [] }],
    ['an empty program name', 'command[0]', { command: [''] }],
    ['a negative memory limit', 'config.resource_limits.memory_mb', { config: { resourceLimits: { memoryMb: -5n } } }],
    ['a memory limit under 6 MB', 'config.resource_limits.memory_mb', { config: { resourceLimits: { memoryMb: 5n } } }],
    ['a memory limit of a terabyte', 'config.resource_limits.memory_mb', { config: { resourceLimits: { memoryMb: 10n ** 12n } } }],
    ['negative CPUs', 'config.resource_limits.cpu_cores', { config: { resourceLimits: { cpuCores: -1 } } }],
    ['NaN CPUs', 'config.resource_limits.cpu_cores', { config: { resourceLimits: { cpuCores: Number.NaN } } }],
    ['a negative pids limit', 'config.resource_limits.pids_limit', { config: { resourceLimits: { pidsLimit: -1 } } }],
    ['a negative storage limit', 'config.resource_limits.storage_mb', { config: { resourceLimits: { storageMb: -1n } } }],
    ['a negative timeout', 'timeout_seconds', { timeoutSeconds: -3 }],
    ['a timeout of four months', 'config.resource_limits.execution_timeout_seconds', { config: { resourceLimits: { executionTimeoutSeconds: 10_000_000 } } }],
    ['negative max executions', 'config.lifecycle.max_executions', { config: { lifecycle: { maxExecutions: -1 } } }],
    ['an unknown network mode', 'config.network_mode', { config: { networkMode: 7 as NetworkMode } }],
    ['a negative output bound', 'max_output_bytes', { maxOutputBytes: -1 }],
    ['a relative working directory', 'working_dir', { workingDir: 'relative/dir' }],
    ['a config name with a space', 'config.name', { config: { name: 'bad name!' } }],
  ])('names the field of a bad value: %s, %s', (_what, field, init) => {
    expect(fieldOf(() => norm(init))).toBe(field);
  });

  it('requires an image for CUSTOM and checks image references', () => {
    expect(fieldOf(() => norm({ runtimeType: RuntimeType.CUSTOM }))).toBe('config.custom_image');
    expect(fieldOf(() => norm({ config: { imageSource: { case: 'baseImage', value: 'Bad Image' } } }))).toBe('config.base_image');
    expect(norm({ runtimeType: RuntimeType.CUSTOM, config: { imageSource: { case: 'customImage', value: '127.0.0.1:5000/team/tool:v1' } } }).container.image).toBe(
      '127.0.0.1:5000/team/tool:v1',
    );
  });

  it.each<[string, Init]>([
    ['env.A-B', { env: { 'A-B': '1' } }],
    ['env.LOOM_TRACE_ID', { env: { LOOM_TRACE_ID: 'x' } }],
    ['env.loom_x', { env: { loom_x: 'x' } }],
    ['config.env.1X', { config: { env: { '1X': 'x' } } }],
    ['env.A', { env: { A: 'nul\0byte' } }],
  ])('refuses a bad environment name or value, and reserves LOOM_*: %s', (field, init) => {
    expect(fieldOf(() => norm(init))).toBe(field);
  });

  it('passes an environment value as it is', () => {
    expect(norm({ env: { GREETING: 'hi there; $(rm -rf /)' } }).run.env).toEqual({ GREETING: 'hi there; $(rm -rf /)' });
  });

  it('accepts real package specs and refuses injection attempts', () => {
    const py = norm({ config: { packages: ['requests==2.31.0', 'pandas', 'uvicorn[standard]>=0.20,<1', 'pandas'] } }).container.packages;
    expect(py).toEqual(['pandas', 'requests==2.31.0', 'uvicorn[standard]>=0.20,<1']);
    const js = norm({ runtimeType: RuntimeType.NODE, config: { packages: ['lodash@^4.17.21', '@types/node', 'axios'] } }).container.packages;
    expect(js).toEqual(['@types/node', 'axios', 'lodash@^4.17.21']);
    expect(fieldOf(() => norm({ runtimeType: RuntimeType.NODE, config: { packages: ['lodash', '--registry=http://evil'] } }))).toBe('config.packages[1]');
    expect(fieldOf(() => norm({ runtimeType: RuntimeType.CUSTOM, config: { imageSource: { case: 'customImage', value: 'x' }, packages: ['a'] } }))).toBe(
      'config.packages',
    );
  });

  it.each(['--index-url=http://evil', '-e .', 'requests; rm -rf /', 'a b', '$(id)', 'x`id`', 'git+https://example.com/x.git'])(
    'refuses the package spec %j, naming config.packages[0]',
    (bad) => {
      expect(fieldOf(() => norm({ config: { packages: [bad] } }))).toBe('config.packages[0]');
    },
  );

  it('accepts local package files that exist, with the right extension (where the policy allows any path)', () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'loom-req-')));
    const wheel = join(dir, 'demo-1.0-py3-none-any.whl');
    writeFileSync(wheel, 'x');
    const anywhere = (init: Init) => norm(init, false, 'anywhere');
    expect(anywhere({ config: { packages: [wheel] } }).container.packages).toEqual([wheel]);
    expect(fieldOf(() => anywhere({ config: { packages: [join(dir, 'missing.whl')] } }))).toBe('config.packages[0]');
    expect(fieldOf(() => anywhere({ runtimeType: RuntimeType.NODE, config: { packages: [wheel] } }))).toBe('config.packages[0]');
  });

  it('refuses host mounts unless allowed, and mounts over Loom paths always', () => {
    const mounts = [{ hostPath: '/etc', containerPath: '/data' }];
    expect(fieldOf(() => norm({ config: { mounts } }))).toBe('config.mounts');
    expect(norm({ config: { mounts } }, true).container.mounts).toEqual([{ hostPath: '/etc', containerPath: '/data', writable: false }]);
    expect(fieldOf(() => norm({ config: { mounts: [{ hostPath: '/etc', containerPath: '/opt/loom/x' }] } }, true))).toBe(
      'config.mounts[0].container_path',
    );
    expect(fieldOf(() => norm({ config: { mounts: [{ hostPath: 'rel', containerPath: '/d' }] } }, true))).toBe('config.mounts[0].host_path');
  });

  it.each(['/tmp', '/tmp/', '/dev/shm', '/dev/mqueue', '/dev'])('refuses a mount over %s, which Loom empties after every run', (containerPath) => {
    expect(fieldOf(() => norm({ config: { mounts: [{ hostPath: '/etc', containerPath }] } }, true))).toBe('config.mounts[0].container_path');
  });

  it('takes a mount below /tmp (the clean-up leaves it as it is)', () => {
    expect(norm({ config: { mounts: [{ hostPath: '/etc', containerPath: '/tmp/data' }] } }, true).container.mounts[0]?.containerPath).toBe('/tmp/data');
  });

  it('keys the pool by what shapes a container, not by what varies per run', () => {
    const key = (init: Init) => poolKeyOf(norm(init).container);
    const base = key({});
    expect(key({ env: { A: '1' }, stdin: new Uint8Array([1]), timeoutSeconds: 5, command: ['true'] })).toBe(base);
    expect(key({ config: { resourceLimits: { memoryMb: 256n } } })).not.toBe(base);
    expect(key({ config: { networkMode: NetworkMode.BRIDGE } })).not.toBe(base);
    expect(key({ config: { env: { A: '1' } } })).not.toBe(base);
    // runc and gVisor containers never share a pool; unspecified is runc.
    expect(key({ config: { isolation: IsolationLevel.GVISOR } })).not.toBe(base);
    expect(key({ config: { isolation: IsolationLevel.RUNC } })).toBe(base);
    expect(key({ config: { packages: ['a', 'b'] } })).toBe(key({ config: { packages: ['b', 'a'] } }));
    expect(poolKeyOf(norm({}).container, 'other-sources')).not.toBe(base);
  });

  it('takes the isolation level: runc unless gvisor is asked for, and refuses unknown levels', () => {
    expect(norm({}).container.isolation).toBe('runc');
    expect(norm({ config: { isolation: IsolationLevel.RUNC } }).container.isolation).toBe('runc');
    expect(norm({ config: { isolation: IsolationLevel.GVISOR } }).container.isolation).toBe('gvisor');
    expect(fieldOf(() => norm({ config: { isolation: 7 as IsolationLevel } }))).toBe('config.isolation');
  });
});
