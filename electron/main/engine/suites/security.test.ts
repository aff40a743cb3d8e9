// The security defaults, proven from inside real containers rather than read off our options,
// under each isolation level (runc, and gVisor's runsc).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecutor, type Executor } from '../executor';
import { gvisorHostPidsLimit } from '../container/isolation';
import { LABEL } from '../pool/labels';
import { docker, ISOLATION_CASES, requireEngineAndImages, requireGvisor, text } from '../testing/test-support';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { DockerBackendConfig, DockerBackendConfigSchema } from '../../../../shared/gen/loom/v1/docker_pb';

type ConfigInit = Exclude<MessageInitShape<typeof DockerBackendConfigSchema>, DockerBackendConfig>;

let executor: Executor;

beforeAll(async () => {
  await requireEngineAndImages();
  await requireGvisor();
  executor = await createExecutor({ minIdlePerConfig: 0 });
});

afterAll(async () => {
  await executor?.close();
});

const py = (code: string) => ['python3', '-c', code];

describe.each(ISOLATION_CASES)('sandbox security defaults (%s)', (isolation, level) => {
  const gvisor = isolation === 'gvisor';
  // Each level's containers under names of their own (the pool keys differ anyway).
  const run = (request: { command: string[]; config?: ConfigInit; timeoutSeconds?: number }) =>
    executor.execute({ ...request, config: { ...request.config, name: `${request.config?.name ?? 'sec'}-${isolation}`, isolation: level } });
  it('runs as nobody (65534) with no capabilities and no-new-privileges', async () => {
    const r = await run({
      // no_new_privs asked of the kernel (prctl PR_GET_NO_NEW_PRIVS): gVisor's /proc/self/status has no NoNewPrivs line.
      command: py(
        "import os, ctypes; s = open('/proc/self/status').read(); f = dict(l.split(':\\t') for l in s.splitlines() if ':\\t' in l); " +
          "print(os.getuid(), os.getgid(), f['CapEff'].strip(), f['CapBnd'].strip(), ctypes.CDLL(None).prctl(39, 0, 0, 0, 0))",
      ),
    });
    expect(text(r.stdout).trim()).toBe('65534 65534 0000000000000000 0000000000000000 1');
  });

  it('has a read-only root filesystem: writing to / fails, /tmp works', async () => {
    // /var/tmp is world-writable on the image's root: only the read-only mount refuses (EROFS),
    // where a write under /usr is refused by permissions first under gVisor (EACCES).
    const r = await run({
      command: py(
        "import errno\ntry:\n  open('/var/tmp/evil', 'w')\nexcept OSError as e:\n  print(errno.errorcode[e.errno])\n" +
          "root = [l.split() for l in open('/proc/mounts') if l.split()[1] == '/'][0]\nprint(root[3].split(',')[0])\n" +
          "open('/tmp/ok', 'w').write('fine'); print(open('/tmp/ok').read())",
      ),
    });
    expect(text(r.stdout)).toBe('EROFS\nro\nfine\n');
  });

  it('has no network interface but lo under the default network mode', async () => {
    const r = await run({ command: py("import socket; print(sorted(n for _, n in socket.if_nameindex()))") });
    expect(text(r.stdout).trim()).toBe("['lo']");
  });

  it('kills a 1 GB allocation under a 64 MB limit and reports it, and the container survives', async () => {
    const config = { name: 'oom-test', resourceLimits: { memoryMb: 64n } };
    const r = await run({ command: py('x = bytearray(1024 * 1024 * 1024); print("survived")'), config });
    expect(r.exitCode).toBe(137);
    expect(r.oomKilled).toBe(true);
    expect(text(r.stdout)).toBe('');
    const next = await run({ command: py("print('ok')"), config });
    expect(next.oomKilled).toBe(false);
    expect(text(next.stdout)).toBe('ok\n');
  });

  it('contains a fork bomb with the pids limit', async () => {
    const bomb = {
      command: py(
        'import os, time\nn = 0\ntry:\n  while True:\n    if os.fork() == 0:\n      time.sleep(60); os._exit(0)\n    n += 1\n' +
          'except OSError as e:\n  print("stopped", n, e.strerror)',
      ),
      config: { name: 'forkbomb', resourceLimits: { pidsLimit: 40 } },
      timeoutSeconds: 30,
    };
    // Under gVisor its own kernel refuses the fork (RLIMIT_NPROC, isolation.ts gvisorUlimits), as
    // runc's pids cgroup does: the same answer under both.
    const r = await run(bomb);
    const [word, count, ...reason] = text(r.stdout).trim().split(' ');
    expect(word).toBe('stopped');
    expect(Number(count)).toBeLessThan(40);
    expect(reason.join(' ')).toMatch(/Resource temporarily unavailable/);
    // The container served the next run of the config (it was not lost to the bomb).
    const again = await run({ command: py("print('fine')"), config: bomb.config });
    expect(text(again.stdout)).toBe('fine\n');
    // The host is unaffected: another sandbox runs normally.
    const other = await run({ command: py("print('fine')") });
    expect(text(other.stdout)).toBe('fine\n');
  });

  it('enforces storage_mb on the writable filesystem', async () => {
    const r = await run({
      command: py(
        "import errno\ntry:\n  f = open('/tmp/fill', 'wb')\n  for _ in range(64): f.write(b'x' * 1024 * 1024); f.flush()\nexcept OSError as e:\n  print(errno.errorcode[e.errno])",
      ),
      config: { name: 'storage', resourceLimits: { storageMb: 16n } },
    });
    expect(text(r.stdout).trim()).toBe('ENOSPC');
  });

  it("applies the guide's default limits and labels to every container", async () => {
    const r = await run({ command: py('pass'), config: { name: 'defaults' } });
    const info = await docker.getContainer(r.containerId).inspect();
    const hc = info.HostConfig;
    expect(hc.Memory).toBe(512 * 1024 * 1024);
    expect(hc.MemorySwap).toBe(512 * 1024 * 1024);
    // 1 CPU as a 1 ms quota per 10 ms period (container.ts cpuQuota says why not NanoCpus).
    expect([hc.NanoCpus, hc.CpuPeriod, hc.CpuQuota]).toEqual([0, 10_000, 10_000]);
    // Under gVisor the limit is its kernel's (RLIMIT_NPROC); the engine's is a backstop with
    // room for gVisor's own host tasks (isolation.ts gvisorHostPidsLimit).
    expect(hc.PidsLimit).toBe(gvisor ? gvisorHostPidsLimit(100) : 100);
    expect(hc.Ulimits?.find((u) => u.Name === 'nproc')).toEqual(gvisor ? { Name: 'nproc', Soft: 100, Hard: 100 } : undefined);
    expect(hc.ReadonlyRootfs).toBe(true);
    expect(hc.CapDrop).toEqual(['ALL']);
    expect(hc.SecurityOpt).toContain('no-new-privileges');
    expect(hc.Privileged).toBe(false);
    expect(hc.NetworkMode).toBe('none');
    expect(hc.Tmpfs?.['/tmp']).toContain('size=1024m');
    expect(hc.Binds ?? []).toEqual([]);
    expect(info.Mounts.filter((m) => m.Type === 'bind')).toEqual([]);
    expect(info.Config.User).toBe('65534:65534');
    expect(info.Config.Labels[LABEL.managed]).toBe('true');
    expect(info.Config.Labels[LABEL.ownerPid]).toBe(String(process.pid));
    expect(info.Config.Labels[LABEL.configName]).toBe(`defaults-${isolation}`);
    expect(hc.Runtime).toBe(gvisor ? 'runsc' : 'runc');
    // Under gVisor the Python runner pre-imports nothing: each module's mappings slow every fork.
    expect(info.Config.Env.includes('LOOM_PREIMPORT=0')).toBe(gvisor);
  });

  it('gives a bridge network only when asked (under gVisor registered with --network=none: refused, never a silent no-network)', async () => {
    const { NetworkMode } = await import('../../../../shared/gen/loom/v1/docker_pb');
    const request = { command: py("import socket; print(sorted(n for _, n in socket.if_nameindex()))"), config: { name: 'bridge', networkMode: NetworkMode.BRIDGE } };
    if (gvisor) {
      await expect(run(request)).rejects.toMatchObject({ name: 'ValidationError', field: 'config.network_mode' });
      return;
    }
    const r = await run(request);
    expect(text(r.stdout)).toContain("'eth0'");
  });
});
