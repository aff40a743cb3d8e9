// The catalogue of checks, and the engine checks judged on engine answers written out here (the
// probe checks are judged on real probe output in doctor.test.ts and resources/doctor/probe.test.ts).
import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { DEFAULT_IMAGES } from '../../../../shared/defaults';
import { RUNC_ADVISORIES_REVIEWED_AT } from './advisories';
import { CHECKS, PROBE_CHECKS } from './checks';
import { ENGINE, ENGINE_SECURITY, GVISOR, IMAGES, RUNTIME } from './engine-checks';
import type { EngineFacts, EngineInfoResponse } from './types';

function component(Name: string, Version: string): Docker.DockerVersion['Components'][number] {
  const Details = { ApiVersion: '', Arch: '', BuildTime: new Date(0), Experimental: '', GitCommit: '', GoVersion: '', KernelVersion: '', Os: '' };
  return { Name, Version, Details };
}

/** Docker 20.10 with runc 1.1.5, as on this machine, with `changes`. */
function engine(changes: { version?: Partial<Docker.DockerVersion>; info?: EngineInfoResponse; imageSizes?: EngineFacts['imageSizes']; gvisor?: EngineFacts['gvisor'] } = {}): EngineFacts {
  const version: Docker.DockerVersion = {
    ApiVersion: '1.41',
    Arch: 'amd64',
    BuildTime: new Date(0),
    Components: [component('Engine', '20.10.24'), component('runc', '1.1.5')],
    GitCommit: '',
    GoVersion: '',
    KernelVersion: '',
    MinAPIVersion: '1.12',
    Os: 'linux',
    Platform: { Name: 'Docker Engine - Community' },
    Version: '20.10.24',
    ...changes.version,
  };
  const info: EngineInfoResponse = { DefaultRuntime: 'runc', Runtimes: { runc: { path: 'runc' } }, SecurityOptions: ['name=seccomp,profile=default'], ...changes.info };
  return { address: 'unix:///var/run/docker.sock', version, info, imageSizes: changes.imageSizes ?? { python: 150e6, node: 200e6 }, gvisor: changes.gvisor };
}

describe('the catalogue of checks', () => {
  it('has each id and each title once, ids dotted and lower-case', () => {
    const ids = CHECKS.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(CHECKS.map((c) => c.title)).size).toBe(CHECKS.length);
    for (const id of ids) expect(id).toMatch(/^[a-z]+(\.[a-z]+(-[a-z]+)*)*$/);
  });

  it('names probe checks limit.* or sandbox.*, and no engine check so', () => {
    for (const c of CHECKS) expect(/^(limit|sandbox)\./.test(c.id), c.id).toBe(c.source === 'probe');
    expect(PROBE_CHECKS.every((c) => CHECKS.includes(c))).toBe(true);
  });

  it('has one image check per default image', () => {
    expect(IMAGES.map((c) => c.id)).toEqual(Object.keys(DEFAULT_IMAGES).map((r) => `image.${r}`));
  });

  // A line that names the check and nothing else proves nothing: it must not pass.
  it.each(PROBE_CHECKS.map((c) => [c.id, c] as const))('%s fails on a probe line without facts', (id, check) => {
    expect(check.judge({ check: id }).status).toBe('fail');
  });
});

describe('the engine checks', () => {
  it('warns on an engine API older than 1.40, and tells Podman apart', () => {
    expect(ENGINE.judge(engine())).toMatchObject({ status: 'ok', detail: 'Docker Engine 20.10.24 at unix:///var/run/docker.sock, API 1.41, linux/amd64' });
    expect(ENGINE.judge(engine({ version: { ApiVersion: '1.39' } }))).toMatchObject({ status: 'warn', fix: 'upgrade Docker Engine to 20.10 or later' });
    const podman = engine({ version: { Components: [component('Podman Engine', '4.9.3')], Platform: { Name: 'linux/amd64/debian-12' } } });
    expect(ENGINE.judge(podman)?.detail).toMatch(/^Podman 4\.9\.3 .*\(Docker-compatible API\)$/);
  });

  it('judges runc by the version the engine reports, with the review date of the advisories', () => {
    const old = RUNTIME.judge(engine());
    expect(old).toMatchObject({ status: 'warn', fix: expect.stringContaining('upgrade runc to 1.3.3 or later') });
    expect(old?.detail).toContain('CVE-2024-21626');
    expect(old?.detail).toContain(`(advisories reviewed ${RUNC_ADVISORIES_REVIEWED_AT})`);
    // Docker also says runc's build in info, which is all there is without a runc component.
    const fromCommit = RUNTIME.judge(engine({ version: { Components: [] }, info: { RuncCommit: { ID: 'v1.3.6-0-g1234567' } } }));
    expect(fromCommit).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^runc v1\.3\.6-0-g1234567: no known/) });
    expect(RUNTIME.judge(engine({ version: { Components: [] } }))).toMatchObject({ status: 'warn', fix: expect.stringContaining('1.2.8, 1.3.3, 1.4.0-rc.3 or later') });
  });

  it('does not hold other runtimes to runc advisories', () => {
    const runsc = engine({ info: { DefaultRuntime: 'runsc', Runtimes: { runsc: { path: '/usr/bin/runsc' } } } });
    expect(RUNTIME.judge(runsc)).toMatchObject({ status: 'ok', detail: expect.stringContaining('gVisor (runsc) is the default runtime') });
    const crun = engine({ version: { Components: [component('crun', '1.14')] }, info: { DefaultRuntime: 'crun', Runtimes: { crun: { path: '/usr/bin/crun' } } } });
    expect(RUNTIME.judge(crun)).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^crun 1\.14 \(the runc advisories/) });
  });

  it("reports the engine's runtimes and gVisor: absent, working (proved by its kernel), or broken", () => {
    expect(GVISOR.judge(engine())).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^not installed.*runtimes: runc \(default runc\)/) });
    const runsc = { DefaultRuntime: 'runc', Runtimes: { runc: { path: 'runc' }, runsc: { path: '/usr/bin/runsc', runtimeArgs: ['--platform=ptrace', '--network=none'] } } };
    // A real gVisor sandbox's line (probe.py sandbox.kernel, runsc 2022 on this machine).
    const seen = { check: 'sandbox.kernel', release: '4.4.0', version: 'Linux version 4.4.0 #1 SMP Sun Jan 10 15:06:54 PST 2016', dmesg: ['[    0.000000] Starting gVisor...'], dmesgErrno: null };
    expect(GVISOR.judge(engine({ info: runsc, gvisor: { facts: seen } }))).toMatchObject({
      status: 'ok',
      detail: expect.stringMatching(/^runsc \(\/usr\/bin\/runsc\), platform ptrace; the engine's runtimes: runc, runsc .*dmesg says 'Starting gVisor\.\.\.'/),
    });
    // Registered but not working: a failure with the way to find out why.
    expect(GVISOR.judge(engine({ info: runsc, gvisor: { error: 'exit 128: platform kvm: /dev/kvm missing' } }))).toMatchObject({ status: 'fail', fix: expect.stringContaining('--platform=ptrace') });
    // A sandbox that cannot start at all after containerd was restarted under dockerd.
    const sync = 'OCI runtime create failed: creating container: cannot create sandbox: cannot read client sync file: waiting for sandbox to start: EOF: unknown';
    expect(GVISOR.judge(engine({ info: runsc, gvisor: { error: sync } }))).toMatchObject({ status: 'fail', fix: expect.stringMatching(/restart dockerd.*TMPDIR/) });
    expect(GVISOR.judge(engine({ info: runsc, gvisor: { error: 'exit 128: platform kvm: /dev/kvm missing' } }))?.fix).not.toMatch(/TMPDIR/);
    // A "runsc" that is not gVisor (the host's kernel answers) must not pass.
    const host = { check: 'sandbox.kernel', release: '6.1.0-18-amd64', version: 'Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org)', dmesg: null, dmesgErrno: 'EPERM' };
    expect(GVISOR.judge(engine({ info: runsc, gvisor: { facts: host } }))).toMatchObject({ status: 'fail' });
  });

  it('warns without seccomp, and on a missing default image with how to get it', () => {
    expect(ENGINE_SECURITY.judge(engine())).toMatchObject({ status: 'ok', detail: 'seccomp (profile default); no user-namespace remapping or rootless mode' });
    expect(ENGINE_SECURITY.judge(engine({ info: { SecurityOptions: ['name=apparmor'] } }))).toMatchObject({ status: 'warn' });
    const [python] = IMAGES;
    expect(python?.judge(engine({ imageSizes: { python: undefined } }))).toMatchObject({ status: 'warn', fix: expect.stringContaining(`docker pull ${DEFAULT_IMAGES.python}`) });
  });
});
