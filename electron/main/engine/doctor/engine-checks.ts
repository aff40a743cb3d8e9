// The checks judged from the engine's own answers (GET /version, /info, the default images).
import type Docker from 'dockerode';
import { DEFAULT_IMAGES } from '../../../../shared/defaults';
import { RUNC_ADVISORIES_REVIEWED_AT } from './advisories';
import { assessRunc, SAFE_RUNC } from './runc';
import { engineCheck, type EngineInfoResponse } from './types';
import { GVISOR_RUNTIME } from '../container/isolation';
import { gvisorEvidence } from './probe-checks';

/** The guide's minimum engine API. */
const MIN_API = '1.40';

export const pullFix = (image: string): string => `docker pull ${image}   (offline: npm run images, which builds it from Debian packages)`;

function isPodman(version: Docker.DockerVersion): boolean {
  const names = [version.Platform?.Name ?? '', ...(version.Components ?? []).map((c) => c.Name)];
  return names.some((n) => /podman/i.test(n));
}

function compareApi(a: string, b: string): number {
  const [aMajor = 0, aMinor = 0] = a.split('.').map(Number);
  const [bMajor = 0, bMinor = 0] = b.split('.').map(Number);
  return aMajor - bMajor || aMinor - bMinor;
}

/** The runtime that runs the sandboxes: the engine's default, with a version when it says one. */
function detectRuntime(version: Docker.DockerVersion, info: EngineInfoResponse): { name: string; version?: string } {
  const defaultName = info.DefaultRuntime ?? 'runc';
  // The default runtime is a name in Runtimes whose path is the binary ("runc" → runc, "runsc" → gVisor).
  const binary = (info.Runtimes?.[defaultName]?.path ?? defaultName).split('/').at(-1) ?? defaultName;
  const component = (version.Components ?? []).find((c) => c.Name.toLowerCase() === binary.toLowerCase() && c.Version);
  if (component) return { name: binary, version: component.Version };
  // Docker also reports runc's build (e.g. "v1.1.12-0-g51d5e94") in info; Podman reports neither.
  const commit = binary === 'runc' ? /^v?\d+\.\d+\.\d+[^\s]*/.exec(info.RuncCommit?.ID ?? '')?.[0] : undefined;
  return commit ? { name: binary, version: commit } : { name: binary };
}

/** "name=seccomp,profile=default" → { name: 'seccomp', extra: ['profile default'] }. */
function parseSecurityOption(option: string): { name: string; extra: string[] } {
  const fields = option.split(',').map((f) => f.split('='));
  const name = fields.find(([k]) => k === 'name')?.[1] ?? option;
  return { name, extra: fields.filter(([k, v]) => k !== 'name' && v !== undefined).map(([k, v]) => `${k} ${v}`) };
}

export const ENGINE = engineCheck({
  id: 'engine',
  title: 'Engine',
  judge({ version, address }) {
    const podman = isPodman(version);
    const product = podman ? 'Podman' : 'Docker Engine';
    const productVersion = podman ? (version.Components?.find((c) => /podman/i.test(c.Name))?.Version ?? version.Version) : version.Version;
    const detail = `${product} ${productVersion} at ${address}, API ${version.ApiVersion}, ${version.Os}/${version.Arch}${podman ? ' (Docker-compatible API)' : ''}`;
    if (compareApi(version.ApiVersion, MIN_API) >= 0) return { status: 'ok', detail };
    return {
      status: 'warn',
      detail: `${detail}: older than API ${MIN_API}, the oldest Loom is written for (some options may be ignored)`,
      fix: podman ? 'upgrade Podman (4.0 or later)' : 'upgrade Docker Engine to 20.10 or later',
    };
  },
});

export const RUNTIME = engineCheck({
  id: 'runtime',
  title: 'Container runtime',
  judge({ version, info }) {
    const runtime = detectRuntime(version, info);
    if (runtime.name === 'runsc') {
      return { status: 'ok', detail: 'gVisor (runsc) is the default runtime: sandboxes run on its user-space kernel' };
    }
    if (runtime.name !== 'runc') {
      return { status: 'ok', detail: `${runtime.name}${runtime.version ? ` ${runtime.version}` : ''} (the runc advisories checked here do not apply to it; keep it updated)` };
    }
    if (!runtime.version) {
      return {
        status: 'warn',
        detail: 'runc, version not reported by the engine: it cannot be checked against known container escapes',
        fix: `run \`runc --version\` on the engine host and make sure it is ${SAFE_RUNC}`,
      };
    }
    const assessment = assessRunc(runtime.version);
    const build = info.RuncCommit?.ID && info.RuncCommit.ID !== runtime.version ? ` (build ${info.RuncCommit.ID})` : '';
    return {
      status: assessment.status,
      detail: `runc ${runtime.version}${build}: ${assessment.detail} (advisories reviewed ${RUNC_ADVISORIES_REVIEWED_AT})`,
      fix: assessment.fix,
    };
  },
});

/** The engine's gVisor runtime: the name config.isolation GVISOR uses (runsc), when registered. */
export function gvisorRuntime(info: EngineInfoResponse): { name: string; path: string; args: string[] } | undefined {
  const runtime = info.Runtimes?.[GVISOR_RUNTIME];
  return runtime ? { name: GVISOR_RUNTIME, path: runtime.path ?? GVISOR_RUNTIME, args: runtime.runtimeArgs ?? [] } : undefined;
}

export const GVISOR = engineCheck({
  id: 'runtime.gvisor',
  title: 'gVisor',
  judge({ info, gvisor }) {
    const names = Object.keys(info.Runtimes ?? {}).sort();
    const runtimes = `the engine's runtimes: ${names.join(', ') || 'none reported'} (default ${info.DefaultRuntime ?? 'runc'})`;
    const runtime = gvisorRuntime(info);
    if (!runtime) {
      return {
        status: 'ok',
        detail: `not installed, so requests for config.isolation GVISOR are refused; ${runtimes}. To add it: apt-get install runsc, register it as "${GVISOR_RUNTIME}" in /etc/docker/daemon.json, reload dockerd (README "Isolation levels")`,
      };
    }
    // runsc's own default (ptrace in Debian's 2022 build, systrap in newer ones) unless the engine passes one.
    const platform = runtime.args.find((a) => a.startsWith('--platform='))?.slice('--platform='.length) ?? "runsc's default";
    const what = `runsc (${runtime.path}), platform ${platform}; ${runtimes}`;
    const fix = 'try `docker run --rm --runtime runsc python:3.11-slim true` for the engine\'s own error; on a virtual machine without /dev/kvm, give runsc "--platform=ptrace" in runtimeArgs';
    if (!gvisor) return { status: 'warn', detail: `${what}: not tried (the probe image is not on the engine)` };
    if (gvisor.error || !gvisor.facts) {
      // Seen here: dockerd 20.10 restarts a containerd that died with its own environment,
      // TMPDIR=/var/lib/docker/tmp among it (mode 700), where runsc then makes its sandbox's
      // chroot as the sandbox user and fails, until dockerd itself restarts.
      const chroot = /cannot read client sync file/.test(gvisor.error ?? '')
        ? '; if gVisor worked before and dockerd\'s log says "containerd did not exit successfully" since, restart dockerd: the containerd it restarted hands runsc TMPDIR=/var/lib/docker/tmp, which runsc\'s sandbox cannot open'
        : '';
      return { status: 'fail', detail: `${what}: a sandbox could not run under it: ${gvisor.error ?? 'no answer'}`, fix: fix + chroot };
    }
    const evidence = gvisorEvidence(gvisor.facts);
    if (!evidence) return { status: 'fail', detail: `${what}: a sandbox ran under it but saw the host's kernel (${String(gvisor.facts.release)}), not gVisor's`, fix };
    return { status: 'ok', detail: `${what}; a sandbox ran under it: ${evidence}` };
  },
});

export const CGROUP = engineCheck({
  id: 'cgroup',
  title: 'cgroups',
  judge({ info }) {
    const version = info.CgroupVersion ? `v${info.CgroupVersion}` : 'version not reported';
    const driver = info.CgroupDriver ? `, driver ${info.CgroupDriver}` : '';
    // Reported, not judged: whether the limits hold is what the probe's checks find out.
    const legacy = info.CgroupVersion === '1' ? ' (legacy; the limits below were tried and are what counts)' : '';
    return { status: 'ok', detail: `cgroup ${version}${driver}${legacy}` };
  },
});

type DefaultRuntime = keyof typeof DEFAULT_IMAGES;

const imageCheck = (runtime: DefaultRuntime) =>
  engineCheck({
    id: `image.${runtime}`,
    title: `${runtime[0]?.toUpperCase() ?? ''}${runtime.slice(1)} image`,
    judge({ imageSizes }) {
      const image = DEFAULT_IMAGES[runtime];
      const size = imageSizes[runtime];
      if (size !== undefined) return { status: 'ok', detail: `${image} is present (${Math.round(size / 1e6)} MB)` };
      return {
        status: 'warn',
        detail: `${image} is not on the engine: the first ${runtime} run pulls it from Docker Hub (slow, and fails offline)`,
        fix: pullFix(image),
      };
    },
  });

/** One per default image, in DEFAULT_IMAGES' order. */
export const IMAGES = (Object.keys(DEFAULT_IMAGES) as DefaultRuntime[]).map(imageCheck);

export const ENGINE_SECURITY = engineCheck({
  id: 'engine.security',
  title: 'Engine security',
  judge({ info }) {
    const options = (info.SecurityOptions ?? []).map(parseSecurityOption);
    const listed = options.map((o) => (o.extra.length ? `${o.name} (${o.extra.join(', ')})` : o.name)).join(', ') || 'none reported';
    const has = (name: string): boolean => options.some((o) => o.name === name);
    if (!has('seccomp')) {
      return {
        status: 'warn',
        detail: `${listed}: seccomp is not available, so sandboxes can make every system call the kernel has (the path of most kernel exploits)`,
        fix: 'use a Docker engine built with seccomp (libseccomp) and do not start dockerd with --seccomp-profile=unconfined',
      };
    }
    // Not required (sandboxes run as an unprivileged user with no capabilities either way), but
    // worth knowing: with either, root in a container is not root on the host.
    const note = !has('userns') && !has('rootless') ? '; no user-namespace remapping or rootless mode' : '';
    return { status: 'ok', detail: `${listed}${note}` };
  },
});
