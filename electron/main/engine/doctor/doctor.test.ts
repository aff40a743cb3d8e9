// The doctor against the real engine here (Docker 20.10, runc 1.1.5, cgroup v1): every limit and
// security default must be found in force by the probe, the old runc must be flagged, and the
// probe container must be gone afterwards. The runc rule is tested on its own (runc.test.ts).
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_IMAGES } from '../../../../shared/defaults';
import { connectDocker } from '../engine-client/docker-client';
import { AbortedError, EngineUnavailableError } from '../errors';
import { LABEL } from '../pool/labels';
import { docker, requireEngineAndImages } from '../testing/test-support';
import { DOCTOR_LABEL, PROBE_CHECKS, runDoctor, type CheckId, type DoctorCheck, type DoctorReport } from '.';

const { address } = connectDocker();

/** Probe containers this test process created (the doctor labels them, owned by our pid). */
async function probeContainers(): Promise<string[]> {
  const found = await docker.listContainers({ all: true, filters: { label: [DOCTOR_LABEL, `${LABEL.ownerPid}=${process.pid}`] } });
  return found.map((c) => c.Id);
}

function check(report: DoctorReport, id: CheckId): DoctorCheck {
  const found = report.checks.find((c) => c.id === id);
  if (!found) throw new Error(`no check '${id}' in ${report.checks.map((c) => c.id).join(', ')}`);
  return found;
}

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
    for (const id of ['limit.memory', 'limit.pids', 'limit.cpu', 'limit.storage'] as const) {
      expect(check(report, id), id).toMatchObject({ status: 'ok' });
    }
    expect(check(report, 'limit.memory').detail).toContain('exit 137');
    expect(check(report, 'limit.pids').detail).toContain('EAGAIN');
    expect(check(report, 'limit.cpu').detail).toContain('0.5 CPU');
    expect(check(report, 'limit.storage').detail).toContain('ENOSPC');
  });

  it('proves each security default from inside the sandbox', () => {
    const ids = PROBE_CHECKS.map((c) => c.id).filter((id) => id.startsWith('sandbox.'));
    expect(ids).toHaveLength(9);
    for (const id of ids) expect(check(report, id), `${id}: ${check(report, id).detail}`).toMatchObject({ status: 'ok' });
    expect(check(report, 'sandbox.user').detail).toContain('uid 65534, gid 65534');
    expect(check(report, 'sandbox.read-only-root').detail).toContain('EROFS');
  });

  it("runs the probe from Loom's resources volume, mounted read-only as in every sandbox", () => {
    // Without the volume /opt/loom/lib would not exist (ENOENT), and the probe could not have run.
    expect(check(report, 'sandbox.read-only-resources').detail).toMatch(/^writing to \/opt\/loom\/lib fails with EROFS: /);
  });

  it('lists every check once, in the catalogue order', () => {
    expect(report.checks.map((c) => c.id)).toEqual(
      ['engine', 'runtime', 'runtime.gvisor', 'cgroup', ...PROBE_CHECKS.map((c) => c.id), 'image.python', 'image.node', 'engine.security'],
    );
  });

  it('tries gVisor for real: runsc is registered here (.ci/run), a sandbox ran under it and saw its kernel', () => {
    const gvisor = check(report, 'runtime.gvisor');
    expect(gvisor, gvisor.detail).toMatchObject({ status: 'ok' });
    expect(gvisor.detail).toMatch(/^runsc \(.*\), platform ptrace; the engine's runtimes: .*runc.*runsc/);
    expect(gvisor.detail).toMatch(/a sandbox ran under it: its (dmesg|\/proc\/version)/);
    // The runc probe sees the host's kernel, not gVisor's.
    expect(check(report, 'sandbox.kernel').detail).toMatch(/^the host's kernel, Linux /);
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
    const probed = r.checks.filter((c) => PROBE_CHECKS.some((p) => p.id === c.id));
    expect(probed).toHaveLength(PROBE_CHECKS.length);
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
