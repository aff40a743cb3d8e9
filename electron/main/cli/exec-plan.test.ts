// `loom exec` flags to the ExecuteRequest and the run's options: parsed by the real option table,
// the request shown as proto3 JSON (what a reader of the proto expects to see).
import { toJson } from '@bufbuild/protobuf';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_LIMITS } from '../../../shared/defaults';
import { ExecuteRequestSchema } from '../../../shared/gen/loom/v1/docker_pb';
import { UsageError, parseWithCommand } from './args';
import { DEFAULT_KEEP_WARM_SECONDS, EXEC_SPECS } from './exec-options';
import { planExec, type ExecPlan } from './exec-plan';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'loom-exec-plan-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.unstubAllEnvs();
});

function plan(argv: string[], stdin: Iterable<string> = [], signal = new AbortController().signal): Promise<ExecPlan> {
  const { values, command } = parseWithCommand(argv, EXEC_SPECS);
  return planExec(values, command, { stdout: new PassThrough(), stderr: new PassThrough(), stdin: Readable.from(stdin) }, signal);
}

/** The UsageError's option, or the error if it is not one. */
async function usageOption(argv: string[]): Promise<unknown> {
  const err = await plan(argv).catch((e: unknown) => e);
  return err instanceof UsageError ? err.option : err;
}

describe('planExec', () => {
  it('without options: a Python request of the command alone; everything else the engine default', async () => {
    vi.stubEnv('LOOM_KEEP_WARM', '');
    const p = await plan(['--', 'python3', '-c', 'print(1)']);
    expect(toJson(ExecuteRequestSchema, p.request)).toEqual({
      runtimeType: 'RUNTIME_TYPE_PYTHON',
      command: ['python3', '-c', 'print(1)'],
      config: { runtimeType: 'RUNTIME_TYPE_PYTHON', resourceLimits: {}, lifecycle: {} },
    });
    expect(p).toMatchObject({
      dockerHost: undefined,
      packageSources: {},
      json: false,
      quiet: false,
      trace: false,
      otlpEndpoint: undefined,
      timeoutSeconds: DEFAULT_LIMITS.executionTimeoutSeconds,
      memoryMb: String(DEFAULT_LIMITS.memoryMb),
      keepWarmSeconds: DEFAULT_KEEP_WARM_SECONDS,
    });
  });

  it('--code FILE sends the file as the source of the runtime\'s program, with no command', async () => {
    const file = join(dir, 'main.go');
    await writeFile(file, 'package main\n\nfunc main() {}\n');
    const p = await plan(['--runtime', 'go', '--code', file, '--compile-timeout', '30']);
    expect(toJson(ExecuteRequestSchema, p.request)).toMatchObject({
      runtimeType: 'RUNTIME_TYPE_GO',
      source: 'package main\n\nfunc main() {}\n',
      compileTimeoutSeconds: 30,
      config: { runtimeType: 'RUNTIME_TYPE_GO' },
    });
    expect(p.request.command).toEqual([]);
  });

  it("--code - reads the source from our stdin, for Python and Node too; not with --stdin - as well", async () => {
    const p = await plan(['--runtime', 'node', '--code', '-'], ['console.log(', '1)']);
    expect(p.request.source).toBe('console.log(1)');
    expect(p.request.stdin).toEqual(new Uint8Array());
    expect(await usageOption(['--code', '-', '--stdin', '-'])).toBe('--code');
    expect(await usageOption(['--code', join(dir, 'missing.py')])).toBe('--code');
  });

  it('maps every request flag to its field', async () => {
    const p = await plan([
      '--runtime', 'node', '--image', 'node:22-slim', '--package', 'left-pad@1.3.0', '--package', './lib-1.0.0.tgz',
      '--cpus', '0.5', '-m', '256', '--storage', '64', '--pids', '50', '-t', '5', '--network', 'bridge',
      '--isolation', 'gvisor', '-e', 'A=1', '--env', 'EQ=a=b', '-w', '/work', '--max-executions', '3', '--rotation-hours', '2', '--name', 'demo',
      '--', 'node', '-e', '1',
    ]);
    expect(toJson(ExecuteRequestSchema, p.request)).toEqual({
      runtimeType: 'RUNTIME_TYPE_NODE',
      command: ['node', '-e', '1'],
      env: { A: '1', EQ: 'a=b' },
      workingDir: '/work',
      config: {
        name: 'demo',
        runtimeType: 'RUNTIME_TYPE_NODE',
        baseImage: 'node:22-slim',
        // A local file is made absolute: the engine takes no relative paths.
        packages: ['left-pad@1.3.0', resolve('lib-1.0.0.tgz')],
        networkMode: 'NETWORK_MODE_BRIDGE',
        isolation: 'ISOLATION_LEVEL_GVISOR',
        resourceLimits: { cpuCores: 0.5, memoryMb: '256', storageMb: '64', pidsLimit: 50, executionTimeoutSeconds: 5 },
        lifecycle: { maxExecutions: 3, rotationIntervalHours: 2 },
      },
    });
    expect(p).toMatchObject({ timeoutSeconds: 5, memoryMb: '256' });
  });

  it('--image is the custom image with --runtime custom', async () => {
    const p = await plan(['--runtime', 'custom', '--image', 'team/tool:v1', '--network', 'none', '--', 'tool']);
    expect(toJson(ExecuteRequestSchema, p.request).config).toMatchObject({
      runtimeType: 'RUNTIME_TYPE_CUSTOM',
      customImage: 'team/tool:v1',
      networkMode: 'NETWORK_MODE_NONE',
    });
  });

  it('maps the run options: engine, package sources, keep-warm, OTLP; --json is quiet and drops --trace', async () => {
    const ca = join(dir, 'ca.pem');
    await writeFile(ca, 'not really a certificate');
    const p = await plan([
      '-H', 'tcp://10.0.0.2:2375', '--pip-index-url', 'https://pypi.corp.example/simple', '--pip-find-links', dir,
      '--npm-registry', 'https://npm.corp.example/', '--ca-file', ca, '--keep-warm', '0', '--otlp', 'http://127.0.0.1:4318',
      '--json', '--trace', '--', 'true',
    ]);
    expect(p).toMatchObject({
      dockerHost: 'tcp://10.0.0.2:2375',
      packageSources: { pipIndexUrl: 'https://pypi.corp.example/simple', pipFindLinks: dir, npmRegistry: 'https://npm.corp.example/', caFile: ca },
      keepWarmSeconds: 0,
      otlpEndpoint: 'http://127.0.0.1:4318',
      json: true,
      quiet: true,
      trace: false,
    });
    expect((await plan(['--trace', '--', 'true'])).trace).toBe(true);
    expect((await plan(['-q', '--', 'true'])).quiet).toBe(true);
    // A directory as the index: a PEP 503 tree on the host, made absolute.
    expect((await plan(['--pip-index-url', dir, '--', 'true'])).packageSources.pipIndexUrl).toBe(dir);
  });

  it('takes the keep-warm time from LOOM_KEEP_WARM unless --keep-warm says otherwise', async () => {
    vi.stubEnv('LOOM_KEEP_WARM', '45');
    expect((await plan(['--', 'true'])).keepWarmSeconds).toBe(45);
    expect((await plan(['--keep-warm', '7', '--', 'true'])).keepWarmSeconds).toBe(7);
    vi.stubEnv('LOOM_KEEP_WARM', 'soon');
    expect(await usageOption(['--', 'true'])).toBe('LOOM_KEEP_WARM');
  });

  it('feeds the program a file with --stdin FILE and our stdin with --stdin -', async () => {
    const file = join(dir, 'input.txt');
    await writeFile(file, 'from a file\n');
    expect(Buffer.from((await plan(['--stdin', file, '--', 'cat'])).request.stdin).toString()).toBe('from a file\n');
    expect(Buffer.from((await plan(['--stdin', '-', '--', 'cat'], ['piped ', 'input'])).request.stdin).toString()).toBe('piped input');
  });

  it('stops waiting for our stdin once the run is stopped', async () => {
    const stopped = new AbortController();
    const never = new PassThrough();
    const { values, command } = parseWithCommand(['--stdin', '-', '--', 'cat'], EXEC_SPECS);
    const planned = planExec(values, command, { stdout: new PassThrough(), stderr: new PassThrough(), stdin: never }, stopped.signal);
    stopped.abort();
    // Resolves although our stdin never ends (the run is not started: what was read is moot).
    await expect(planned).resolves.toMatchObject({ request: { command: ['cat'] } });
  });

  it.each([
    [['--runtime', 'perl'], '--runtime'],
    [['--network', 'host'], '--network'],
    [['--isolation', 'kata'], '--isolation'],
    [['--cpus', 'two'], '--cpus'],
    [['--memory', '1e3'], '--memory'],
    [['--timeout', '1.5'], '--timeout'],
    [['--env', 'NOEQUALS'], '--env'],
    [['--otlp', 'ftp://collector'], '--otlp'],
    [['--stdin', '/no/such/file'], '--stdin'],
    [['--pip-find-links', '/no/such/dir'], '--pip-find-links'],
    [['--pip-index-url', './no-such-index'], '--pip-index-url'],
    [['--ca-file', '/no/such/ca.pem'], '--ca-file'],
  ])('%j is a usage error naming %s', async (args, option) => {
    expect(await usageOption([...args, '--', 'true'])).toBe(option);
  });
});

describe('the parent trace context', () => {
  const PARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

  it('--traceparent sets ExecuteRequest.traceparent; TRACEPARENT from the environment does when it is absent', async () => {
    vi.stubEnv('TRACEPARENT', '');
    expect((await plan(['--', 'true'])).request.traceparent).toBe('');
    expect((await plan(['--traceparent', PARENT, '--', 'true'])).request.traceparent).toBe(PARENT);
    vi.stubEnv('TRACEPARENT', PARENT);
    expect((await plan(['--', 'true'])).request.traceparent).toBe(PARENT);
    const other = '00-11111111111111111111111111111111-2222222222222222-00';
    expect((await plan(['--traceparent', other, '--', 'true'])).request.traceparent).toBe(other);
  });

  it('a malformed one is a usage error naming where it came from', async () => {
    vi.stubEnv('TRACEPARENT', '');
    expect(await usageOption(['--traceparent', '00-xyz-1-01', '--', 'true'])).toBe('--traceparent');
    vi.stubEnv('TRACEPARENT', 'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    expect(await usageOption(['--', 'true'])).toBe('TRACEPARENT');
  });
});
