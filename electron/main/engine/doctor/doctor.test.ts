// The doctor against the real engine here (Docker 20.10, runc 1.1.5, cgroup v1): every limit and
// security default must be found in force by the probe, the old runc must be flagged, and the
// probe container must be gone afterwards. The runc rule is a pure function, tested on its own.
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_IMAGES } from '../../../shared/defaults';
import { connectDocker } from './docker-client';
import { assessRunc, compareVersions, DOCTOR_LABEL, LEAKY_VESSELS, NOVEMBER_2025, parseVersion, runDoctor, type DoctorCheck, type DoctorReport } from './doctor';
import { AbortedError, EngineUnavailableError } from './errors';
import { LABEL } from './labels';
import { docker, requireEngineAndImages } from './test-support';

const { address } = connectDocker();

/** Probe containers this test process created (the doctor labels them, owned by our pid). */
async function probeContainers(): Promise<string[]> {
  const found = await docker.listContainers({ all: true, filters: { label: [DOCTOR_LABEL, `${LABEL.ownerPid}=${process.pid}`] } });
  return found.map((c) => c.Id);
}

function check(report: DoctorReport, id: string): DoctorCheck {
  const found = report.checks.find((c) => c.id === id);
  if (!found) throw new Error(`no check '${id}' in ${report.checks.map((c) => c.id).join(', ')}`);
  return found;
}

describe('assessRunc', () => {
  const cases: [string, string[]][] = [
    ['1.1.5', [LEAKY_VESSELS, ...NOVEMBER_2025]],
    ['1.1.5+ds1', [LEAKY_VESSELS, ...NOVEMBER_2025]],
    ['1.1.11', [LEAKY_VESSELS, ...NOVEMBER_2025]],
    ['1.0.0-rc93', [LEAKY_VESSELS, ...NOVEMBER_2025]],
    ['v1.1.12', [...NOVEMBER_2025]],
    // A distribution revision, not a pre-release: Ubuntu's 1.1.12 has the Leaky Vessels fix.
    ['1.1.12-0ubuntu2~22.04.1', [...NOVEMBER_2025]],
    ['1.1.15', [...NOVEMBER_2025]],
    ['1.2.0-rc.1', [...NOVEMBER_2025]],
    ['1.2.7', [...NOVEMBER_2025]],
    ['1.2.8', []],
    ['1.3.0', [...NOVEMBER_2025]],
    ['1.3.2', [...NOVEMBER_2025]],
    ['1.3.3', []],
    ['v1.3.4', []],
    ['1.4.0-rc.1', [...NOVEMBER_2025]],
    ['1.4.0-rc.2', []],
    ['1.4.0', []],
    ['1.5.1', []],
  ];
  it.each(cases)('%s → %j', (version, advisories) => {
    const a = assessRunc(version);
    expect(a.advisories).toEqual(advisories);
    expect(a.status).toBe(advisories.length ? 'warn' : 'ok');
    for (const cve of advisories) expect(a.detail).toContain(cve);
  });

  it('says what to upgrade to, per series', () => {
    expect(assessRunc('1.1.5').fix).toContain('1.3.3 or later (or 1.2.8');
    expect(assessRunc('1.2.0-rc.1').fix).toContain('upgrade runc to 1.2.8 or later');
    expect(assessRunc('1.3.2').fix).toContain('upgrade runc to 1.3.3 or later');
    expect(assessRunc('1.4.0-rc.1').fix).toContain('upgrade runc to 1.4.0-rc.2 or later');
    expect(assessRunc('1.3.3').fix).toBeUndefined();
  });

  it('mentions backports for distribution builds only', () => {
    expect(assessRunc('1.1.5+ds1').detail).toContain('backported');
    expect(assessRunc('1.1.5').detail).not.toContain('backported');
  });

  it('warns on a version it cannot read', () => {
    const a = assessRunc('unknown');
    expect(a.status).toBe('warn');
    expect(a.detail).toContain("cannot read the version 'unknown'");
  });

  it('orders pre-releases before their release', () => {
    const order = ['1.0.0-rc93', '1.1.5', '1.2.0-rc.1', '1.2.0-rc.2', '1.2.0', '1.4.0-rc.1', '1.4.0-rc.10', '1.4.0'];
    const parsed = order.map((s) => parseVersion(s) ?? expect.unreachable(s));
    for (let i = 1; i < parsed.length; i++) expect(compareVersions(parsed[i - 1]!, parsed[i]!)).toBeLessThan(0);
    expect(compareVersions(parseVersion('1.1.5+ds1')!, parseVersion('v1.1.5')!)).toBe(0);
  });
});

describe('runDoctor on the real engine', () => {
  let report: DoctorReport;
  let ms = 0;

  beforeAll(async () => {
    await requireEngineAndImages();
    const started = Date.now();
    report = await runDoctor(docker, address);
    ms = Date.now() - started;
  });

  it('finishes in a few seconds', () => {
    expect(ms).toBeLessThan(10_000);
  });

  it('finds the engine with its version', () => {
    const engine = check(report, 'engine');
    expect(engine.status).toBe('ok');
    expect(engine.detail).toMatch(/Docker Engine \d+\.\d+\.\d+/);
    expect(engine.detail).toContain('API 1.');
    expect(engine.detail).toContain(address);
  });

  it('flags runc 1.1.5 for CVE-2024-21626 and says what to upgrade to', () => {
    const runtime = check(report, 'runtime');
    expect(runtime.status).toBe('warn');
    expect(runtime.detail).toMatch(/^runc 1\.1\.5/);
    expect(runtime.detail).toContain('CVE-2024-21626');
    expect(runtime.fix).toContain('upgrade runc to');
  });

  it('proves the memory, pids, CPU and storage limits by experiment', () => {
    for (const id of ['limit.memory', 'limit.pids', 'limit.cpu', 'limit.storage']) {
      expect(check(report, id), id).toMatchObject({ status: 'ok' });
    }
    expect(check(report, 'limit.memory').detail).toContain('exit 137');
    expect(check(report, 'limit.pids').detail).toContain('EAGAIN');
    expect(check(report, 'limit.cpu').detail).toContain('0.5 CPU');
    expect(check(report, 'limit.storage').detail).toContain('ENOSPC');
  });

  it('proves each security default from inside the sandbox', () => {
    const ids = [
      'sandbox.user',
      'sandbox.capabilities',
      'sandbox.no-new-privileges',
      'sandbox.read-only-root',
      'sandbox.network',
      'sandbox.docker-socket',
      'sandbox.seccomp',
    ];
    for (const id of ids) expect(check(report, id), `${id}: ${check(report, id).detail}`).toMatchObject({ status: 'ok' });
    expect(check(report, 'sandbox.user').detail).toContain('uid 65534, gid 65534');
    expect(check(report, 'sandbox.read-only-root').detail).toContain('EROFS');
  });

  it('finds the default images and the engine security options', () => {
    expect(check(report, 'image.python')).toMatchObject({ status: 'ok', detail: expect.stringContaining(DEFAULT_IMAGES.python) });
    expect(check(report, 'image.node')).toMatchObject({ status: 'ok', detail: expect.stringContaining(DEFAULT_IMAGES.node) });
    expect(check(report, 'engine.security')).toMatchObject({ status: 'ok', detail: expect.stringContaining('seccomp') });
    expect(check(report, 'cgroup').detail).toMatch(/cgroup v[12]/);
  });

  it('fails nothing, and leaves no container behind', async () => {
    expect(report.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(await probeContainers()).toEqual([]);
  });

  it('warns with the fix, instead of crashing, when the probe image is missing', async () => {
    const image = 'loom-doctor-absent:never';
    const r = await runDoctor(docker, address, { probeImage: image });
    const probed = r.checks.filter((c) => c.id.startsWith('limit.') || c.id.startsWith('sandbox.'));
    expect(probed).toHaveLength(11);
    for (const c of probed) {
      expect(c.status).toBe('warn');
      expect(c.fix).toContain(`docker pull ${image}`);
    }
    expect(await probeContainers()).toEqual([]);
  });

  it('removes the probe container when interrupted', async () => {
    const controller = new AbortController();
    const running = runDoctor(docker, address, { signal: controller.signal });
    // Interrupt while the probe container exists (a fixed delay is too late on a quiet machine).
    for (let i = 0; i < 500 && (await probeContainers()).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    controller.abort();
    await expect(running).rejects.toBeInstanceOf(AbortedError);
    expect(await probeContainers()).toEqual([]);
  });

  it('reports an engine that does not answer as EngineUnavailableError', async () => {
    const unreachable = connectDocker('tcp://127.0.0.1:1');
    await expect(runDoctor(unreachable.docker, unreachable.address)).rejects.toBeInstanceOf(EngineUnavailableError);
  });
});
