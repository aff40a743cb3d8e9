// `loom doctor`: what a user needs to know before trusting the sandbox with untrusted code. The
// engine's own claims (versions, security options) are read and judged; the limits and the
// security defaults are not taken on trust but tried, from inside one short-lived container made
// with the very options every Loom sandbox gets (createOptions), so an engine that silently
// ignores a setting (rootless cgroup v1, a runtime without pids support) shows up as a failure.
import type Docker from 'dockerode';
import { randomBytes } from 'node:crypto';
import { DEFAULT_IMAGES } from '../../../shared/defaults';
import { createOptions, SANDBOX_USER } from './container';
import { AbortedError, describeCause } from './errors';
import { pingEngine } from './docker-client';
import { runExec, type ExecResult } from './exec';
import { currentOwner } from './labels';
import type { ContainerSpec } from './request';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface DoctorCheck {
  /** Stable, dotted: 'engine', 'runtime', 'limit.memory', 'sandbox.seccomp', 'image.python', ... */
  id: string;
  title: string;
  status: CheckStatus;
  /** What was found, in a sentence or two. */
  detail: string;
  /** What to do about a warning or a failure. */
  fix?: string;
}

export interface DoctorReport {
  checks: DoctorCheck[];
}

export interface DoctorOptions {
  /** Aborting stops the probe; its container is removed before runDoctor rejects (AbortedError). */
  signal?: AbortSignal;
  /** How long the probe program may run before it is killed and its checks fail. */
  probeTimeoutMs?: number;
  /** The image the probe runs in (it needs python3); Loom's default Python image unless given. */
  probeImage?: string;
}

/** Set on the probe container (besides Loom's usual labels) so that it can be told apart. */
export const DOCTOR_LABEL = 'dev.loom.doctor';

/** The limits the probe container gets: small, so that reaching each one is quick. */
export const PROBE_LIMITS = { memoryMb: 64, pidsLimit: 32, cpuCores: 0.5, storageMb: 16 } as const;
/** What the probe tries to exceed them with. */
const PROBE_ALLOC_MB = 256;
const PROBE_WRITE_MB = 32;

/** The guide's minimum engine API. */
const MIN_API = '1.40';

const PULL_FIX = (image: string): string => `docker pull ${image}   (offline: npm run images, which builds it from Debian packages)`;

export async function runDoctor(docker: Docker, address: string, options: DoctorOptions = {}): Promise<DoctorReport> {
  // pingEngine turns "nothing answers" into EngineUnavailableError, which callers report as such.
  await pingEngine(docker, address);
  const [version, info, images] = await Promise.all([
    docker.version(),
    docker.info() as Promise<EngineInfoResponse>,
    Promise.all(Object.entries(DEFAULT_IMAGES).map(async ([runtime, image]) => ({ runtime, image, size: await imageSize(docker, image) }))),
  ]);
  const probeImage = options.probeImage ?? DEFAULT_IMAGES.python;
  const known = images.find((i) => i.image === probeImage);
  const probePresent = known ? known.size !== undefined : (await imageSize(docker, probeImage)) !== undefined;
  const probe = await runProbe(docker, { ...PROBE_SPEC, image: probeImage }, probePresent, options);

  const checks: DoctorCheck[] = [
    engineCheck(version, address),
    runtimeCheck(version, info),
    ...gvisorCheck(info),
    cgroupCheck(info),
    ...probe,
    ...images.map((i) => imageCheck(i.runtime, i.image, i.size)),
    engineSecurityCheck(info),
  ];
  return { checks };
}

// ---- The engine's own claims -------------------------------------------------------------

/** The fields of GET /info that the doctor reads (dockerode types it as any). */
export interface EngineInfoResponse {
  CgroupVersion?: string;
  CgroupDriver?: string;
  DefaultRuntime?: string;
  Runtimes?: Record<string, { path?: string; runtimeArgs?: string[] } | undefined>;
  SecurityOptions?: string[];
  RuncCommit?: { ID?: string };
  ServerVersion?: string;
}

type VersionResponse = Docker.DockerVersion;

function isPodman(version: VersionResponse): boolean {
  const names = [version.Platform?.Name ?? '', ...(version.Components ?? []).map((c) => c.Name)];
  return names.some((n) => /podman/i.test(n));
}

function engineCheck(version: VersionResponse, address: string): DoctorCheck {
  const podman = isPodman(version);
  const product = podman ? 'Podman' : 'Docker Engine';
  const productVersion = podman ? (version.Components?.find((c) => /podman/i.test(c.Name))?.Version ?? version.Version) : version.Version;
  const detail = `${product} ${productVersion} at ${address}, API ${version.ApiVersion}, ${version.Os}/${version.Arch}${podman ? ' (Docker-compatible API)' : ''}`;
  if (compareApi(version.ApiVersion, MIN_API) < 0) {
    return {
      id: 'engine',
      title: 'Engine',
      status: 'warn',
      detail: `${detail}: older than API ${MIN_API}, the oldest Loom is written for (some options may be ignored)`,
      fix: podman ? 'upgrade Podman (4.0 or later)' : 'upgrade Docker Engine to 20.10 or later',
    };
  }
  return { id: 'engine', title: 'Engine', status: 'ok', detail };
}

function compareApi(a: string, b: string): number {
  const [aMajor = 0, aMinor = 0] = a.split('.').map(Number);
  const [bMajor = 0, bMinor = 0] = b.split('.').map(Number);
  return aMajor - bMajor || aMinor - bMinor;
}

/** The runtime that runs the sandboxes: the engine's default, with a version when it says one. */
export function detectRuntime(version: VersionResponse, info: EngineInfoResponse): { name: string; version?: string } {
  const defaultName = info.DefaultRuntime ?? 'runc';
  // The default runtime is a name in Runtimes whose path is the binary ("runc" → runc, "runsc" → gVisor).
  const binary = (info.Runtimes?.[defaultName]?.path ?? defaultName).split('/').at(-1) ?? defaultName;
  const component = (version.Components ?? []).find((c) => c.Name.toLowerCase() === binary.toLowerCase() && c.Version);
  if (component) return { name: binary, version: component.Version };
  // Docker also reports runc's build (e.g. "v1.1.12-0-g51d5e94") in info; Podman reports neither.
  const commit = binary === 'runc' ? /^v?\d+\.\d+\.\d+[^\s]*/.exec(info.RuncCommit?.ID ?? '')?.[0] : undefined;
  return commit ? { name: binary, version: commit } : { name: binary };
}

function runtimeCheck(version: VersionResponse, info: EngineInfoResponse): DoctorCheck {
  const runtime = detectRuntime(version, info);
  const title = 'Container runtime';
  if (runtime.name === 'runsc') {
    return { id: 'runtime', title, status: 'ok', detail: 'gVisor (runsc) is the default runtime: sandboxes run on its user-space kernel' };
  }
  if (runtime.name !== 'runc') {
    return {
      id: 'runtime',
      title,
      status: 'ok',
      detail: `${runtime.name}${runtime.version ? ` ${runtime.version}` : ''} (the runc advisories checked here do not apply to it; keep it updated)`,
    };
  }
  if (!runtime.version) {
    return {
      id: 'runtime',
      title,
      status: 'warn',
      detail: 'runc, version not reported by the engine: it cannot be checked against known container escapes',
      fix: 'run `runc --version` on the engine host and make sure it is 1.2.8, 1.3.3, 1.4.0 or later',
    };
  }
  const assessment = assessRunc(runtime.version);
  const build = info.RuncCommit?.ID && info.RuncCommit.ID !== runtime.version ? ` (build ${info.RuncCommit.ID})` : '';
  return { id: 'runtime', title, status: assessment.status, detail: `runc ${runtime.version}${build}: ${assessment.detail}`, fix: assessment.fix };
}

function gvisorCheck(info: EngineInfoResponse): DoctorCheck[] {
  const name = Object.entries(info.Runtimes ?? {}).find(([key, r]) => key === 'runsc' || /(^|\/)runsc$/.test(r?.path ?? ''))?.[0];
  if (!name || name === info.DefaultRuntime) return [];
  return [
    {
      id: 'runtime.gvisor',
      title: 'gVisor',
      status: 'ok',
      detail: `gVisor is installed as runtime '${name}' (a user-space kernel: stronger isolation than runc); Loom's sandboxes use the engine's default runtime '${info.DefaultRuntime ?? 'runc'}'`,
    },
  ];
}

function cgroupCheck(info: EngineInfoResponse): DoctorCheck {
  const version = info.CgroupVersion ? `v${info.CgroupVersion}` : 'version not reported';
  const driver = info.CgroupDriver ? `, driver ${info.CgroupDriver}` : '';
  // Reported, not judged: whether the limits hold is what the four checks below find out.
  const legacy = info.CgroupVersion === '1' ? ' (legacy; the limits below were tried and are what counts)' : '';
  return { id: 'cgroup', title: 'cgroups', status: 'ok', detail: `cgroup ${version}${driver}${legacy}` };
}

/** "name=seccomp,profile=default" → { name: 'seccomp', profile: 'default' }. */
function parseSecurityOption(option: string): { name: string; extra: string[] } {
  const fields = option.split(',').map((f) => f.split('='));
  const name = fields.find(([k]) => k === 'name')?.[1] ?? option;
  return { name, extra: fields.filter(([k, v]) => k !== 'name' && v !== undefined).map(([k, v]) => `${k} ${v}`) };
}

function engineSecurityCheck(info: EngineInfoResponse): DoctorCheck {
  const options = (info.SecurityOptions ?? []).map(parseSecurityOption);
  const listed = options.map((o) => (o.extra.length ? `${o.name} (${o.extra.join(', ')})` : o.name)).join(', ') || 'none reported';
  const has = (name: string): boolean => options.some((o) => o.name === name);
  const notes: string[] = [];
  // Not required (sandboxes run as an unprivileged user with no capabilities either way), but
  // worth knowing: with either, root in a container is not root on the host.
  if (!has('userns') && !has('rootless')) notes.push('no user-namespace remapping or rootless mode');
  const title = 'Engine security';
  if (!has('seccomp')) {
    return {
      id: 'engine.security',
      title,
      status: 'warn',
      detail: `${listed}: seccomp is not available, so sandboxes can make every system call the kernel has (the path of most kernel exploits)`,
      fix: 'use a Docker engine built with seccomp (libseccomp) and do not start dockerd with --seccomp-profile=unconfined',
    };
  }
  return { id: 'engine.security', title, status: 'ok', detail: `${listed}${notes.length ? `; ${notes.join('; ')}` : ''}` };
}

async function imageSize(docker: Docker, image: string): Promise<number | undefined> {
  try {
    return (await docker.getImage(image).inspect()).Size;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  }
}

function imageCheck(runtime: string, image: string, size: number | undefined): DoctorCheck {
  const id = `image.${runtime}`;
  const title = `${runtime[0]?.toUpperCase() ?? ''}${runtime.slice(1)} image`;
  if (size === undefined) {
    return {
      id,
      title,
      status: 'warn',
      detail: `${image} is not on the engine: the first ${runtime} run pulls it from Docker Hub (slow, and fails offline)`,
      fix: PULL_FIX(image),
    };
  }
  return { id, title, status: 'ok', detail: `${image} is present (${Math.round(size / 1e6)} MB)` };
}

// ---- The runc rule -----------------------------------------------------------------------

interface Version {
  major: number;
  minor: number;
  patch: number;
  /** Pre-release identifiers ('rc.2' → ['rc', 2]); empty for a release. */
  pre: (string | number)[];
}

/**
 * Reads '1.1.5', 'v1.1.12', '1.2.0-rc.1', '1.0.0-rc93', '1.1.5+ds1' (Debian) and
 * '1.1.12-0ubuntu2~22.04.1' (a distribution revision, not a pre-release: only suffixes
 * starting rc/alpha/beta/pre are taken for one, else Ubuntu's fixed 1.1.12 would look older).
 */
export function parseVersion(raw: string): Version | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.~-]+))?(?:[+~].*)?$/.exec(raw.trim());
  if (!m) return undefined;
  const suffix = m[4] ?? '';
  const pre = /^(rc|alpha|beta|pre)/i.test(suffix)
    ? (suffix.match(/\d+|[a-z]+/gi) ?? []).map((t) => (/^\d+$/.test(t) ? Number(t) : t.toLowerCase()))
    : [];
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), pre };
}

export function compareVersions(a: Version, b: Version): number {
  const core = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (core) return core;
  // A pre-release comes before its release.
  if (!a.pre.length || !b.pre.length) return b.pre.length - a.pre.length;
  for (let i = 0; i < Math.max(a.pre.length, b.pre.length); i++) {
    const x = a.pre[i];
    const y = b.pre[i];
    if (x === undefined || y === undefined) return x === undefined ? -1 : 1;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return 0;
}

const v = (raw: string): Version => parseVersion(raw) as Version;

export const LEAKY_VESSELS = 'CVE-2024-21626';
export const NOVEMBER_2025 = ['CVE-2025-31133', 'CVE-2025-52565', 'CVE-2025-52881'] as const;

/** The first release of each series with the November 2025 fixes; older series got none. */
const NOVEMBER_2025_FIXED: Record<string, string> = { '1.2': '1.2.8', '1.3': '1.3.3', '1.4': '1.4.0-rc.2' };

export interface RuncAssessment {
  status: 'ok' | 'warn';
  /** The advisories the version is older than. */
  advisories: string[];
  detail: string;
  fix?: string;
}

/** Judges a runc version against the container escapes it is known to be open to. */
export function assessRunc(raw: string): RuncAssessment {
  const version = parseVersion(raw);
  if (!version) {
    return {
      status: 'warn',
      advisories: [],
      detail: `cannot read the version '${raw}', so it cannot be checked against known container escapes`,
      fix: 'make sure runc is 1.2.8, 1.3.3, 1.4.0 or later (`runc --version` on the engine host)',
    };
  }
  const advisories: string[] = [];
  const problems: string[] = [];
  if (compareVersions(version, v('1.1.12')) < 0) {
    advisories.push(LEAKY_VESSELS);
    problems.push(`${LEAKY_VESSELS} ("Leaky Vessels", fixed in 1.1.12: a leaked host file descriptor lets a container escape onto the host filesystem)`);
  }
  const series = `${version.major}.${version.minor}`;
  const fixedIn = NOVEMBER_2025_FIXED[series];
  // Series before 1.2 are affected too, and got no fix.
  const beforeFixedSeries = compareVersions(version, v('1.2.0-alpha')) < 0;
  if (beforeFixedSeries || (fixedIn !== undefined && compareVersions(version, v(fixedIn)) < 0)) {
    advisories.push(...NOVEMBER_2025);
    problems.push(
      `${NOVEMBER_2025.join(', ')} (November 2025, fixed in 1.2.8, 1.3.3 and 1.4.0-rc.2: mount races and a masked-path bypass let a malicious container escape)`,
    );
  }
  if (!advisories.length) return { status: 'ok', advisories, detail: 'no known container-escape advisory applies' };
  const target = fixedIn ?? '1.3.3';
  const alternatives = fixedIn ? '' : ' (or 1.2.8; the 1.1 series and older get no fix for the 2025 advisories)';
  // Distributions patch old versions in place: Debian's runc 1.1.5+ds1-1+deb12u1 looks older than it may be.
  const distro = /[+~]|-\d/.test(raw) ? " A distribution's build may have the fixes backported under the old number: check its security tracker." : '';
  return {
    status: 'warn',
    advisories,
    detail: `predates the fixes for ${problems.join(' and ')}.${distro}`,
    fix:
      `upgrade runc to ${target} or later${alternatives}: with Docker's packages update containerd.io (apt/dnf upgrade), ` +
      "with a distribution's docker.io update its runc package, with Docker Desktop update Docker Desktop",
  };
}

// ---- The probe: limits and security defaults, tried from inside ----------------------------

/**
 * Runs in the probe container as the sandbox user. Each trial prints one JSON line as soon as
 * it is known, so that a probe killed midway (by a limit that misfired) still reports what it
 * found before. The order puts the harmless reads first and the trials that push a limit last.
 */
const PROBE_PY = String.raw`
import errno, json, os, subprocess, sys

limits = json.loads(sys.argv[1])

def report(check, **facts):
    print(json.dumps(dict(check=check, **facts)), flush=True)

def code(e):
    return errno.errorcode.get(e.errno, str(e.errno))

def trial(check, fn):
    try:
        fn()
    except Exception as e:
        report(check, error='%s: %s' % (type(e).__name__, e))

status = {}
with open('/proc/self/status') as f:
    for line in f:
        key, _, value = line.partition(':')
        status[key] = value.strip()

def user():
    report('user', uid=os.getuid(), gid=os.getgid(), groups=os.getgroups())

def capabilities():
    report('capabilities', eff=status.get('CapEff'), bnd=status.get('CapBnd'), prm=status.get('CapPrm'))

def nnp():
    report('nnp', value=status.get('NoNewPrivs'))

def seccomp():
    report('seccomp', value=status.get('Seccomp'))

def rootfs():
    path = '/usr/.loom-doctor-%d' % os.getpid()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    except OSError as e:
        report('rootfs', errno=code(e))
        return
    os.close(fd)
    os.unlink(path)
    report('rootfs', errno=None)

def network():
    report('network', interfaces=sorted(os.listdir('/sys/class/net')))

def socket_files():
    candidates = ['/var/run/docker.sock', '/run/docker.sock', '/run/podman/podman.sock', '/var/run/podman/podman.sock']
    report('socket', present=[p for p in candidates if os.path.exists(p)])

def cpu():
    # cgroup v2: one file "QUOTA PERIOD"; v1: two files in the cpu controller's directory.
    if os.path.exists('/sys/fs/cgroup/cpu.max'):
        with open('/sys/fs/cgroup/cpu.max') as f:
            quota, period = f.read().split()
        report('cpu', file='/sys/fs/cgroup/cpu.max', quota=None if quota == 'max' else int(quota), period=int(period))
        return
    for d in ('/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpu,cpuacct'):
        if os.path.exists(d + '/cpu.cfs_quota_us'):
            with open(d + '/cpu.cfs_quota_us') as f:
                quota = int(f.read())
            with open(d + '/cpu.cfs_period_us') as f:
                period = int(f.read())
            report('cpu', file=d + '/cpu.cfs_quota_us', quota=None if quota < 0 else quota, period=period)
            return
    report('cpu', error='no cgroup CPU files under /sys/fs/cgroup')

def storage():
    path = os.path.join(os.environ.get('TMPDIR', '/tmp'), 'loom-doctor-fill')
    chunk = b'\1' * (1 << 20)
    written = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        while written < limits['writeMb']:
            os.write(fd, chunk)
            written += 1
        report('storage', writtenMb=written, errno=None)
    except OSError as e:
        report('storage', writtenMb=written, errno=code(e))
    finally:
        os.close(fd)
        os.unlink(path)

def pids():
    # Children block on a pipe and exit when it closes; fork until the kernel says no, with a
    # ceiling so that a missing limit ends the trial instead of exhausting the host.
    r, w = os.pipe()
    children, failure, peak = [], None, 0
    try:
        for _ in range(limits['pids'] * 4):
            pid = os.fork()
            if pid == 0:
                os.close(w)
                try:
                    os.read(r, 1)
                finally:
                    os._exit(0)
            children.append(pid)
    except OSError as e:
        failure = code(e)
    finally:
        peak = sum(1 for p in os.listdir('/proc') if p.isdigit())
        os.close(w)
        for pid in children:
            os.waitpid(pid, 0)
    report('pids', forked=len(children), errno=failure, processes=peak)

def memory():
    # bytearray zero-fills, so every page is touched and charged to the cgroup.
    child = subprocess.run([sys.executable, '-c', 'b = bytearray(%d << 20); print(len(b))' % limits['allocMb']],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    report('memory', returncode=child.returncode, stderr=child.stderr.decode(errors='replace')[-300:])

for name, fn in [('user', user), ('capabilities', capabilities), ('nnp', nnp), ('seccomp', seccomp),
                 ('rootfs', rootfs), ('network', network), ('socket', socket_files), ('cpu', cpu),
                 ('storage', storage), ('pids', pids), ('memory', memory)]:
    trial(name, fn)
`;

/** One line of the probe's output. */
type ProbeFacts = Record<string, unknown> & { check: string; error?: string };

/** The checks the probe answers, in the order they are printed. */
const PROBE_CHECKS: { id: string; title: string; fact: string }[] = [
  { id: 'limit.memory', title: 'Memory limit', fact: 'memory' },
  { id: 'limit.pids', title: 'Process limit', fact: 'pids' },
  { id: 'limit.cpu', title: 'CPU limit', fact: 'cpu' },
  { id: 'limit.storage', title: 'Storage limit', fact: 'storage' },
  { id: 'sandbox.user', title: 'Unprivileged user', fact: 'user' },
  { id: 'sandbox.capabilities', title: 'No capabilities', fact: 'capabilities' },
  { id: 'sandbox.no-new-privileges', title: 'No new privileges', fact: 'nnp' },
  { id: 'sandbox.read-only-root', title: 'Read-only root', fact: 'rootfs' },
  { id: 'sandbox.network', title: 'No network', fact: 'network' },
  { id: 'sandbox.docker-socket', title: 'No Docker socket', fact: 'socket' },
  { id: 'sandbox.seccomp', title: 'Seccomp filter', fact: 'seccomp' },
];

const PROBE_SPEC: ContainerSpec = {
  name: 'doctor',
  image: DEFAULT_IMAGES.python,
  runtime: 'python',
  packages: [],
  cpuCores: PROBE_LIMITS.cpuCores,
  memoryMb: PROBE_LIMITS.memoryMb,
  storageMb: PROBE_LIMITS.storageMb,
  pidsLimit: PROBE_LIMITS.pidsLimit,
  network: 'none',
  env: {},
  mounts: [],
};

/** The same verdict for every probe check (the probe could not run, or ran and said nothing). */
function allProbeChecks(status: CheckStatus, detail: string, fix?: string): DoctorCheck[] {
  return PROBE_CHECKS.map(({ id, title }) => ({ id, title, status, detail, fix }));
}

async function runProbe(docker: Docker, spec: ContainerSpec, imagePresent: boolean, options: DoctorOptions): Promise<DoctorCheck[]> {
  const image = spec.image;
  if (!imagePresent) {
    // Pulling would take far longer than a doctor should, and fails offline: say how instead.
    return allProbeChecks('warn', `not tried: the probe runs in ${image}, which is not on the engine`, PULL_FIX(image));
  }
  if (options.signal?.aborted) throw new AbortedError('loom doctor was interrupted');
  const run = randomBytes(16).toString('hex');
  const create = createOptions({ spec, poolKey: run, owner: currentOwner(run) });
  // Loom's managed labels stay, so that `loom containers prune` removes a probe whose process died.
  create.Labels = { ...create.Labels, [DOCTOR_LABEL]: run };

  let container: Docker.Container | undefined;
  try {
    try {
      container = await docker.createContainer(create);
      await container.start();
    } catch (err) {
      // The engine refused Loom's own options: every sandbox would fail the same way.
      return allProbeChecks('fail', `could not start a sandbox container with Loom's options: ${describeCause(err)}`, 'see the engine\'s message; `docker info` shows its configuration');
    }
    const started = container;
    const timeoutMs = options.probeTimeoutMs ?? 20_000;
    let result: ExecResult;
    try {
      result = await runExec(started, {
        argv: ['python3', '-c', PROBE_PY, JSON.stringify({ pids: PROBE_LIMITS.pidsLimit, allocMb: PROBE_ALLOC_MB, writeMb: PROBE_WRITE_MB })],
        maxOutputBytes: 1 << 20,
        timeoutMs,
        signal: options.signal,
        kill: async () => {
          await started.kill().catch(() => undefined);
        },
      });
    } catch (err) {
      if (options.signal?.aborted) throw new AbortedError('loom doctor was interrupted');
      return allProbeChecks('fail', `the probe could not run in the sandbox container: ${describeCause(err)}`);
    }
    if (result.aborted) throw new AbortedError('loom doctor was interrupted');
    const facts = new Map<string, ProbeFacts>();
    for (const line of result.stdout.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        const parsed = JSON.parse(line) as ProbeFacts;
        if (typeof parsed.check === 'string') facts.set(parsed.check, parsed);
      } catch {
        // Not one of ours: ignored, and the check it should have answered says so.
      }
    }
    const missing = result.timedOut
      ? `the probe did not finish within ${timeoutMs / 1000} s and was killed`
      : `the probe ended (exit ${result.exitCode}) without reporting it${result.stderr.length ? `: ${result.stderr.toString('utf8').trim().slice(-300)}` : ''}`;
    return PROBE_CHECKS.map(({ id, title, fact }) => {
      const f = facts.get(fact);
      if (!f) return { id, title, status: 'fail', detail: missing };
      if (f.error) return { id, title, status: 'fail', detail: `the trial failed: ${f.error}` };
      return { id, title, ...judge(fact, f) };
    });
  } finally {
    // Whatever happened above: the probe container must not outlive the doctor.
    if (container) await container.remove({ force: true, v: true }).catch(() => undefined);
  }
}

type Verdict = Pick<DoctorCheck, 'status' | 'detail' | 'fix'>;

const num = (x: unknown): number | undefined => (typeof x === 'number' ? x : undefined);
const str = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined);

/** Turns one line of the probe's facts into a verdict. */
export function judge(fact: string, f: Record<string, unknown>): Verdict {
  const L = PROBE_LIMITS;
  switch (fact) {
    case 'memory': {
      const rc = num(f.returncode);
      // A child killed by SIGKILL has returncode -9; a shell would say 137 (128 + 9).
      if (rc === -9) return { status: 'ok', detail: `allocating ${PROBE_ALLOC_MB} MB under a ${L.memoryMb} MB limit was killed (exit 137): memory and swap are capped` };
      const what = rc === 0 ? `allocating ${PROBE_ALLOC_MB} MB under a ${L.memoryMb} MB limit succeeded` : `allocating ${PROBE_ALLOC_MB} MB ended with ${rc !== undefined && rc < 0 ? `signal ${-rc}` : `exit ${rc}`}, not the kernel's OOM kill`;
      return {
        status: 'fail',
        detail: `${what}: the memory limit is not enforced${rc === 0 ? ' (or swap is not limited)' : ''}`,
        fix: 'enable the memory cgroup controller (and swap accounting: swapaccount=1 on the kernel command line for cgroup v1); rootless engines need cgroup v2 with delegation',
      };
    }
    case 'pids': {
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
    }
    case 'cpu': {
      const quota = f.quota === null ? null : num(f.quota);
      const period = num(f.period);
      const file = str(f.file) ?? 'the cgroup';
      if (quota === null || quota === undefined || !period) {
        return { status: 'fail', detail: `${file} sets no CPU quota: a sandbox can use every core`, fix: 'enable the cpu cgroup controller (CFS quota) on the engine host' };
      }
      const cores = quota / period;
      const detail = `${file}: ${quota}/${period} = ${+cores.toFixed(3)} CPU`;
      return Math.abs(cores - L.cpuCores) < 0.01
        ? { status: 'ok', detail: `${detail}, as asked (${L.cpuCores}): the kernel's scheduler enforces this quota` }
        : { status: 'fail', detail: `${detail}, but ${L.cpuCores} was asked`, fix: 'enable the cpu cgroup controller (CFS quota) on the engine host' };
    }
    case 'storage': {
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
    }
    case 'user': {
      const uid = num(f.uid);
      const gid = num(f.gid);
      const expected = SANDBOX_USER.split(':').map(Number);
      return uid === expected[0] && gid === expected[1]
        ? { status: 'ok', detail: `programs run as uid ${uid}, gid ${gid} (nobody), not root` }
        : { status: 'fail', detail: `programs run as uid ${uid}, gid ${gid}, not ${SANDBOX_USER}`, fix: 'the engine ignored the container User setting' };
    }
    case 'capabilities': {
      const eff = str(f.eff) ?? '?';
      const bnd = str(f.bnd) ?? '?';
      if (!/^0+$/.test(eff)) return { status: 'fail', detail: `effective capabilities ${eff}: programs hold privileges`, fix: 'the engine ignored CapDrop: ALL' };
      // Dropped from the bounding set too, so not even a setuid binary can get them back.
      if (!/^0+$/.test(bnd)) return { status: 'warn', detail: `no effective capabilities, but the bounding set is ${bnd}: CapDrop ALL was not applied`, fix: 'the engine ignored CapDrop: ALL' };
      return { status: 'ok', detail: 'CapEff 0 and CapBnd 0: every capability is dropped' };
    }
    case 'nnp':
      return str(f.value) === '1'
        ? { status: 'ok', detail: 'NoNewPrivs 1: setuid binaries cannot raise privileges' }
        : { status: 'fail', detail: `NoNewPrivs ${str(f.value) ?? 'absent'}: setuid binaries could raise privileges`, fix: 'the engine ignored --security-opt no-new-privileges' };
    case 'rootfs': {
      const err = str(f.errno);
      if (err === 'EROFS') return { status: 'ok', detail: 'writing to /usr fails with EROFS: only the size-limited /tmp and /dev/shm are writable' };
      // As nobody, a writable root still refuses /usr with EACCES: only EROFS proves the mount is read-only.
      return {
        status: 'fail',
        detail: err
          ? `writing to /usr fails with ${err}, not EROFS: only file permissions refused it, the root filesystem is not mounted read-only`
          : 'writing to /usr succeeded: the root filesystem is writable',
        fix: 'the engine ignored ReadonlyRootfs',
      };
    }
    case 'network': {
      const interfaces = Array.isArray(f.interfaces) ? f.interfaces.map(String) : [];
      const others = interfaces.filter((i) => i !== 'lo');
      return others.length === 0
        ? { status: 'ok', detail: `${interfaces.length ? 'only lo' : 'no interface at all'}: no way out unless a request asks for a network` }
        : { status: 'fail', detail: `interfaces besides lo: ${others.join(', ')}`, fix: 'the engine ignored NetworkMode none' };
    }
    case 'socket': {
      const present = Array.isArray(f.present) ? f.present.map(String) : [];
      return present.length === 0
        ? { status: 'ok', detail: 'no Docker or Podman socket inside: a sandbox cannot drive the engine' }
        : { status: 'fail', detail: `${present.join(', ')} exists inside the sandbox: whoever runs there controls the engine (root on the host)`, fix: 'remove the socket from the image or the mounts' };
    }
    case 'seccomp':
      return str(f.value) === '2'
        ? { status: 'ok', detail: 'Seccomp 2: a system-call filter is in force' }
        : { status: 'fail', detail: `Seccomp ${str(f.value) ?? 'absent'}: no system-call filter`, fix: 'use an engine with seccomp, and no seccomp=unconfined' };
    default:
      return { status: 'fail', detail: `unknown probe fact '${fact}'` };
  }
}
