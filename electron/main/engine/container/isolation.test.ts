// The isolation levels against real engines: gVisor is what runs when asked (the program sees
// gVisor's kernel), runc and gVisor never share a container, and an engine without runsc refuses
// a gVisor request before it creates anything, with how to fix it, instead of running it on runc.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IsolationLevel, RuntimeType } from '../../../../shared/gen/loom/v1/docker_pb';
import { RuntimeMissingError } from '../errors';
import { createExecutor, type Executor } from '../executor';
import { startPrivateEngine, type PrivateEngine } from '../testing/private-engine';
import { docker, requireEngineAndImages, requireGvisor, text } from '../testing/test-support';
import { ociRuntime } from './isolation';

const KERNEL_PROBE = [
  'python3',
  '-c',
  "import ctypes, os\nbuf = ctypes.create_string_buffer(4096)\nn = ctypes.CDLL(None, use_errno=True).klogctl(3, buf, 4096)\n" +
    "print(os.uname().release)\nprint(open('/proc/version').read().strip())\nprint(buf.raw[:n].decode() if n > 0 else 'dmesg refused, errno %d' % ctypes.get_errno())",
];

describe('ociRuntime', () => {
  it('is runsc for gvisor and the engine default (no Runtime) for runc', () => {
    expect(ociRuntime('gvisor')).toBe('runsc');
    expect(ociRuntime('runc')).toBeUndefined();
    expect(ociRuntime('gvisor', 'gvisor-kvm')).toBe('gvisor-kvm');
  });
});

describe('isolation levels on the real engine', () => {
  let executor: Executor;
  beforeAll(async () => {
    await requireEngineAndImages();
    await requireGvisor();
    executor = await createExecutor({ minIdlePerConfig: 0 });
  });
  afterAll(() => executor?.close());

  it("runs a gVisor request under runsc, where the program sees gVisor's kernel, and a runc one on the host's", async () => {
    const under = await executor.execute({ command: KERNEL_PROBE, config: { name: 'probe-gvisor', isolation: IsolationLevel.GVISOR } });
    expect(text(under.stderr)).toBe('');
    const [release, version, ...dmesg] = text(under.stdout).trim().split('\n');
    // gVisor's fixed identity: its own "kernel" and its boot lines, whatever the host runs.
    expect(version).toMatch(/^Linux version \S+ #1 SMP Sun Jan 10 15:06:54 PST 2016$/);
    expect(dmesg.join('\n')).toContain('Starting gVisor...');
    expect((await docker.getContainer(under.containerId).inspect()).HostConfig.Runtime).toBe('runsc');
    // The runner and tracing work there as in runc.
    expect(under.usage?.via).toBe('runner');
    expect(under.spans.map((s) => s.name)).toContain('docker.run');

    const host = await executor.execute({ command: KERNEL_PROBE, config: { name: 'probe-runc' } });
    const [hostRelease, hostVersion] = text(host.stdout).split('\n');
    expect(hostRelease).not.toBe(release);
    expect(hostVersion).not.toMatch(/PST 2016$/);
    expect((await docker.getContainer(host.containerId).inspect()).HostConfig.Runtime).toBe('runc');
    // gVisor's kernel counts no page faults: its runs carry none (both runners), rather than a 0
    // nobody measured; runc's do.
    const counted = (r: typeof host): boolean => r.spans.some((s) => typeof s.attributes?.['loom.page_faults'] === 'number');
    const node = (isolation: IsolationLevel): ReturnType<Executor['execute']> =>
      executor.execute({ runtimeType: RuntimeType.NODE, command: ['node', '-e', 'console.log(1)'], config: { name: 'faults-node', isolation } });
    const [nodeUnder, nodeHost] = [await node(IsolationLevel.GVISOR), await node(IsolationLevel.RUNC)];
    expect([nodeUnder.usage?.via, nodeHost.usage?.via]).toEqual(['runner', 'runner']);
    expect([counted(under), counted(nodeUnder), counted(host), counted(nodeHost)]).toEqual([false, false, true, true]);
  });

  // gVisor ignores CLONE_PARENT, so there the forker's clones are its own children: it reaps
  // them and relays each end to the runner (loom_forker.py), which must report it as its own.
  it('runs gVisor programs in clones of the forker, whose ends it relays as the runner would report them', async () => {
    const config = { name: 'gvisor-relay', isolation: IsolationLevel.GVISOR };
    const run = (code: string, timeoutSeconds = 30): ReturnType<Executor['execute']> => executor.execute({ command: ['python3', '-c', code], config, timeoutSeconds });
    for (let i = 0; i < 3; i++) await run('pass'); // the container, its forker and a spare
    const parent = await run("import os; print(open('/proc/%d/comm' % os.getppid()).read().strip())");
    expect(text(parent.stdout), text(parent.stderr)).toBe('loom-forker\n');
    expect((await run('import sys; sys.exit(7)')).exitCode).toBe(7);
    expect((await run('import os, signal; os.kill(os.getpid(), signal.SIGTERM)')).exitCode).toBe(143);
    const busy = await run('import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass');
    expect(busy.usage?.cpuMs).toBeGreaterThanOrEqual(250);
    expect(Number(busy.usage?.peakMemoryKb)).toBeGreaterThan(1000);
    const loop = await run('while True: pass', 2);
    expect([loop.timedOut, loop.exitCode]).toEqual([true, 137]);
    // A program that kills the forker (its parent there) ends with it: its own end could no longer be known.
    const killer = await run('import os, signal, time\nos.kill(os.getppid(), signal.SIGKILL)\ntime.sleep(20)');
    expect([killer.exitCode, killer.timedOut]).toEqual([137, false]);
    expect(killer.durationMs).toBeLessThan(10_000);
    for (let i = 0; i < 3; i++) expect(text((await run(`print('after', ${i})`)).stdout)).toBe(`after ${i}\n`);
    const again = await run("import os; print(open('/proc/%d/comm' % os.getppid()).read().strip())");
    expect(text(again.stdout)).toBe('loom-forker\n');
  });

  it('never gives a gVisor request a runc container of the same config, nor the reverse', async () => {
    const config = { name: 'same-config' };
    const runc = await executor.execute({ command: ['true'], config });
    const gvisor = await executor.execute({ command: ['true'], config: { ...config, isolation: IsolationLevel.GVISOR } });
    const runcAgain = await executor.execute({ command: ['true'], config: { ...config, isolation: IsolationLevel.RUNC } });
    expect(gvisor.containerId).not.toBe(runc.containerId);
    expect(runcAgain.containerId).toBe(runc.containerId);
    expect(executor.poolKey({ command: ['true'], config: { ...config, isolation: IsolationLevel.GVISOR } })).not.toBe(executor.poolKey({ command: ['true'], config }));
  });
});

describe('an engine without runsc', () => {
  let engine: PrivateEngine | undefined;
  let executor: Executor | undefined;
  beforeAll(async () => {
    // A private dockerd with an empty daemon.json: runc only. No image either: the refusal must
    // come before any pull or create.
    engine = await startPrivateEngine({ images: [] });
    executor = await createExecutor({ docker: engine.docker, dockerHost: engine.host, minIdlePerConfig: 0, reapOrphans: false });
  }, 120_000);
  afterAll(async () => {
    await executor?.close();
    await engine?.stop();
  }, 120_000);

  it('refuses a gVisor request before creating anything, says how to install runsc, and never falls back to runc', async () => {
    const err = await executor!.execute({ command: ['true'], config: { isolation: IsolationLevel.GVISOR } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuntimeMissingError);
    const message = (err as Error).message;
    expect(message).toContain("runtime named 'runsc'");
    expect(message).toMatch(/it has only .*runc/);
    expect(message).toContain('apt-get install runsc');
    expect(message).toContain('/etc/docker/daemon.json');
    expect(message).toContain('"runtimes"');
    expect(message).toMatch(/restart dockerd|SIGHUP/);
    expect(await engine!.docker.listContainers({ all: true })).toEqual([]);
    expect(await engine!.docker.listImages()).toEqual([]);
    // prewarm is refused alike.
    await expect(executor!.prewarm({ config: { isolation: IsolationLevel.GVISOR } })).rejects.toBeInstanceOf(RuntimeMissingError);
  });
});
