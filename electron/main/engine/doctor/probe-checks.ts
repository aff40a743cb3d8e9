// The checks the probe (resources/doctor/probe.py) answers from inside a sandbox container: each
// judges the one JSON line the probe printed under its id.
import { SANDBOX_USER } from '../container/container';
import { RESOURCES_DIR } from '../container/resources';
import { probeCheck, type Verdict } from './types';

/** The limits the probe container gets: small, so that reaching each one is quick. */
export const PROBE_LIMITS = { memoryMb: 64, pidsLimit: 32, cpuCores: 0.5, storageMb: 16 } as const;
/** What the probe tries to exceed them with. */
export const PROBE_ALLOC_MB = 256;
export const PROBE_WRITE_MB = 32;

const L = PROBE_LIMITS;
const num = (x: unknown): number | undefined => (typeof x === 'number' ? x : undefined);
const str = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined);
/** A list the probe must have printed: a missing one proves nothing, so it is not an empty one. */
const list = (x: unknown): string[] | undefined => (Array.isArray(x) ? x.map(String) : undefined);

/** Only EROFS proves a read-only mount: as nobody, a writable one still refuses with EACCES. */
function readOnly(errno: string | undefined, where: string, what: string, held: string, fix: string): Verdict {
  if (errno === 'EROFS') return { status: 'ok', detail: `writing to ${where} fails with EROFS: ${held}` };
  return {
    status: 'fail',
    detail: errno
      ? `writing to ${where} fails with ${errno}, not EROFS: only file permissions refused it, ${what} is not mounted read-only`
      : `writing to ${where} succeeded: ${what} is writable`,
    fix,
  };
}

export const MEMORY = probeCheck({
  id: 'limit.memory',
  title: 'Memory limit',
  judge(f) {
    const rc = num(f.returncode);
    // A child killed by SIGKILL has returncode -9; a shell would say 137 (128 + 9).
    if (rc === -9) return { status: 'ok', detail: `allocating ${PROBE_ALLOC_MB} MB under a ${L.memoryMb} MB limit was killed (exit 137): memory and swap are capped` };
    const what =
      rc === 0
        ? `allocating ${PROBE_ALLOC_MB} MB under a ${L.memoryMb} MB limit succeeded`
        : `allocating ${PROBE_ALLOC_MB} MB ended with ${rc !== undefined && rc < 0 ? `signal ${-rc}` : `exit ${rc}`}, not the kernel's OOM kill`;
    return {
      status: 'fail',
      detail: `${what}: the memory limit is not enforced${rc === 0 ? ' (or swap is not limited)' : ''}`,
      fix: 'enable the memory cgroup controller (and swap accounting: swapaccount=1 on the kernel command line for cgroup v1); rootless engines need cgroup v2 with delegation',
    };
  },
});

export const PIDS = probeCheck({
  id: 'limit.pids',
  title: 'Process limit',
  judge(f) {
    const forked = num(f.forked) ?? 0;
    const processes = num(f.processes) ?? 0;
    const err = str(f.errno);
    if (err === 'EAGAIN' && processes <= L.pidsLimit) {
      return { status: 'ok', detail: `forking stopped with EAGAIN after ${forked} children, ${processes} processes in all, under a limit of ${L.pidsLimit}: fork bombs are contained` };
    }
    return {
      status: 'fail',
      detail: err ? `forking stopped with ${err} at ${processes} processes, over the limit of ${L.pidsLimit}` : `${forked} forks succeeded under a limit of ${L.pidsLimit}: the pids limit is not enforced`,
      fix: 'enable the pids cgroup controller (cgroup v2 with delegation for rootless engines)',
    };
  },
});

export const CPU = probeCheck({
  id: 'limit.cpu',
  title: 'CPU limit',
  judge(f) {
    const quota = num(f.quota);
    const period = num(f.period);
    const file = str(f.file) ?? 'the cgroup';
    const fix = 'enable the cpu cgroup controller (CFS quota) on the engine host';
    if (quota === undefined || !period) return { status: 'fail', detail: `${file} sets no CPU quota: a sandbox can use every core`, fix };
    const cores = quota / period;
    const detail = `${file}: ${quota}/${period} = ${+cores.toFixed(3)} CPU`;
    return Math.abs(cores - L.cpuCores) < 0.01
      ? { status: 'ok', detail: `${detail}, as asked (${L.cpuCores}): the kernel's scheduler enforces this quota` }
      : { status: 'fail', detail: `${detail}, but ${L.cpuCores} was asked`, fix };
  },
});

export const STORAGE = probeCheck({
  id: 'limit.storage',
  title: 'Storage limit',
  judge(f) {
    const written = num(f.writtenMb) ?? 0;
    const err = str(f.errno);
    if (err === 'ENOSPC' && written <= L.storageMb) {
      return { status: 'ok', detail: `writing ${PROBE_WRITE_MB} MB to /tmp stopped with ENOSPC after ${written} MB (limit ${L.storageMb} MB)` };
    }
    return {
      status: 'fail',
      detail: err ? `writing to /tmp stopped with ${err} after ${written} MB (expected ENOSPC at ${L.storageMb} MB)` : `${written} MB were written to /tmp under a ${L.storageMb} MB limit`,
      fix: 'the engine must support size= on tmpfs mounts (Docker does; check that nothing rewrites the mount options)',
    };
  },
});

export const USER = probeCheck({
  id: 'sandbox.user',
  title: 'Unprivileged user',
  judge(f) {
    const uid = num(f.uid);
    const gid = num(f.gid);
    const [expectedUid, expectedGid] = SANDBOX_USER.split(':').map(Number);
    return uid === expectedUid && gid === expectedGid
      ? { status: 'ok', detail: `programs run as uid ${uid}, gid ${gid} (nobody), not root` }
      : { status: 'fail', detail: `programs run as uid ${uid}, gid ${gid}, not ${SANDBOX_USER}`, fix: 'the engine ignored the container User setting' };
  },
});

export const CAPABILITIES = probeCheck({
  id: 'sandbox.capabilities',
  title: 'No capabilities',
  judge(f) {
    const eff = str(f.eff) ?? '?';
    const bnd = str(f.bnd) ?? '?';
    const fix = 'the engine ignored CapDrop: ALL';
    if (!/^0+$/.test(eff)) return { status: 'fail', detail: `effective capabilities ${eff}: programs hold privileges`, fix };
    // Dropped from the bounding set too, so not even a setuid binary can get them back.
    if (!/^0+$/.test(bnd)) return { status: 'warn', detail: `no effective capabilities, but the bounding set is ${bnd}: CapDrop ALL was not applied`, fix };
    return { status: 'ok', detail: 'CapEff 0 and CapBnd 0: every capability is dropped' };
  },
});

export const NO_NEW_PRIVILEGES = probeCheck({
  id: 'sandbox.no-new-privileges',
  title: 'No new privileges',
  judge: (f) =>
    str(f.value) === '1'
      ? { status: 'ok', detail: 'NoNewPrivs 1: setuid binaries cannot raise privileges' }
      : { status: 'fail', detail: `NoNewPrivs ${str(f.value) ?? 'absent'}: setuid binaries could raise privileges`, fix: 'the engine ignored --security-opt no-new-privileges' },
});

export const READ_ONLY_ROOT = probeCheck({
  id: 'sandbox.read-only-root',
  title: 'Read-only root',
  judge: (f) =>
    readOnly(str(f.errno), '/usr', 'the root filesystem', 'only the size-limited /tmp and /dev/shm are writable', 'the engine ignored ReadonlyRootfs'),
});

export const READ_ONLY_RESOURCES = probeCheck({
  id: 'sandbox.read-only-resources',
  title: 'Read-only Loom files',
  // Every sandbox shares this volume: a writable one would let a program change what runs the
  // next programs, in its own container and in every other.
  judge: (f) =>
    readOnly(
      str(f.errno),
      RESOURCES_DIR,
      "Loom's resources volume",
      'the runner, the agent and loom-init, which every sandbox shares, cannot be changed',
      'the engine ignored ReadOnly on the resources volume mount',
    ),
});

export const NETWORK = probeCheck({
  id: 'sandbox.network',
  title: 'No network',
  judge(f) {
    const interfaces = list(f.interfaces);
    if (!interfaces) return { status: 'fail', detail: 'the probe did not list the network interfaces' };
    const others = interfaces.filter((i) => i !== 'lo');
    return others.length === 0
      ? { status: 'ok', detail: `${interfaces.length ? 'only lo' : 'no interface at all'}: no way out unless a request asks for a network` }
      : { status: 'fail', detail: `interfaces besides lo: ${others.join(', ')}`, fix: 'the engine ignored NetworkMode none' };
  },
});

export const DOCKER_SOCKET = probeCheck({
  id: 'sandbox.docker-socket',
  title: 'No Docker socket',
  judge(f) {
    const present = list(f.present);
    if (!present) return { status: 'fail', detail: 'the probe did not list the engine sockets it found' };
    return present.length === 0
      ? { status: 'ok', detail: 'no Docker or Podman socket inside: a sandbox cannot drive the engine' }
      : {
          status: 'fail',
          detail: `${present.join(', ')} exists inside the sandbox: whoever runs there controls the engine (root on the host)`,
          fix: 'remove the socket from the image or the mounts',
        };
  },
});

export const SECCOMP = probeCheck({
  id: 'sandbox.seccomp',
  title: 'Seccomp filter',
  judge: (f) =>
    str(f.value) === '2'
      ? { status: 'ok', detail: 'Seccomp 2: a system-call filter is in force' }
      : { status: 'fail', detail: `Seccomp ${str(f.value) ?? 'absent'}: no system-call filter`, fix: 'use an engine with seccomp, and no seccomp=unconfined' },
});

/** gVisor's /proc/version: a fixed line of its own, whatever the host runs. */
const GVISOR_PROC_VERSION = /^Linux version \S+ #1 SMP Sun Jan 10 15:06:54 PST 2016$/;

/** Whether a sandbox's kernel facts (the probe's sandbox.kernel line) are gVisor's, and how that shows. */
export function gvisorEvidence(f: Record<string, unknown>): string | undefined {
  const dmesg = list(f.dmesg) ?? [];
  const line = dmesg.find((l) => /gVisor/i.test(l));
  if (line) return `its dmesg says '${line.replace(/^\[[^\]]*\]\s*/, '')}'`;
  if (GVISOR_PROC_VERSION.test(str(f.version) ?? '')) return `its /proc/version is gVisor's ('${str(f.version)}')`;
  return undefined;
}

export const KERNEL = probeCheck({
  id: 'sandbox.kernel',
  title: 'Kernel',
  judge(f) {
    const release = str(f.release);
    if (!release) return { status: 'fail', detail: 'the probe did not report the kernel release' };
    const gvisor = gvisorEvidence(f);
    if (gvisor) return { status: 'ok', detail: `gVisor's user-space kernel (reports Linux ${release}): ${gvisor}` };
    return { status: 'ok', detail: `the host's kernel, Linux ${release}, shared with every container (runc): keep it patched; config.isolation GVISOR puts gVisor in between` };
  },
});
