// `loom doctor` end to end: spawns the real command (node bin/loom.js) against the real engine
// and checks what a user sees: the lines, the exit status, the JSON, and that no probe container
// outlives the process.
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { CHECKS, DOCTOR_LABEL, PROBE_CHECKS, type DoctorCheck } from '../engine/doctor';
import { LABEL } from '../engine/pool/labels';
import { docker, requireEngineAndImages } from '../engine/testing/test-support';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = join(ROOT, 'bin', 'loom.js');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
  pid: number;
}

function loom(args: string[], timeoutMs = 60_000): Promise<Result> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`loom ${args.join(' ')} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), pid: child.pid ?? 0 });
    });
  });
}

/** Probe containers the CLI process `pid` created and left. */
async function leftBy(pid: number): Promise<string[]> {
  const found = await docker.listContainers({ all: true, filters: { label: [DOCTOR_LABEL, `${LABEL.ownerPid}=${pid}`] } });
  return found.map((c) => c.Id);
}

beforeAll(async () => {
  await requireEngineAndImages();
});

describe('loom doctor', () => {
  it('prints one line per check and exits 0 with warnings (the old runc here)', async () => {
    const r = await loom(['doctor']);
    expect(r.stderr).toBe('');
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^✓ Engine +Docker Engine /m);
    expect(r.stdout).toMatch(/^! Container runtime +runc 1\.1\.5/m);
    expect(r.stdout).toContain('CVE-2024-21626');
    expect(r.stdout).toMatch(/^ +fix: upgrade runc to /m);
    for (const { title } of [...PROBE_CHECKS, ...CHECKS.filter((c) => c.id === 'image.python')]) {
      expect(r.stdout).toMatch(new RegExp(`^✓ ${title} `, 'm'));
    }
    expect(r.stdout).not.toContain('✗');
    expect(r.stdout).toMatch(/\d+ ok, 1 warning, 0 failed\./);
    expect(await leftBy(r.pid)).toEqual([]);
  });

  it('--json prints the checks and a summary', async () => {
    const r = await loom(['doctor', '--json']);
    expect(r.code, r.stdout).toBe(0);
    const parsed = JSON.parse(r.stdout) as { address: string; checks: DoctorCheck[]; summary: { ok: number; warn: number; fail: number } };
    // Every check, gVisor's too (reported whether or not the engine has runsc).
    expect(parsed.checks.map((c) => c.id)).toEqual(CHECKS.map((c) => c.id));
    expect(parsed.checks.find((c) => c.id === 'runtime')).toMatchObject({ status: 'warn', detail: expect.stringContaining('CVE-2024-21626') });
    expect(parsed.checks.find((c) => c.id === 'limit.memory')).toMatchObject({ status: 'ok' });
    expect(parsed.summary).toMatchObject({ fail: 0, warn: 1 });
    expect(parsed.summary.ok + parsed.summary.warn).toBe(parsed.checks.length);
    expect(await leftBy(r.pid)).toEqual([]);
  });

  it('exits 125 with how to start an engine when none answers', async () => {
    const r = await loom(['doctor', '--host', 'tcp://127.0.0.1:1']);
    expect(r.code).toBe(125);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('loom: Cannot connect to the Docker engine at tcp://127.0.0.1:1');
    expect(r.stderr).toContain('sudo systemctl start docker');
    expect(r.stderr).toContain('DOCKER_HOST');
  });

  it('answers an unavailable engine in JSON with --json', async () => {
    const r = await loom(['doctor', '--json', '--host', 'tcp://127.0.0.1:1']);
    expect(r.code).toBe(125);
    const parsed = JSON.parse(r.stdout) as { error: { name: string; address: string } };
    expect(parsed.error).toMatchObject({ name: 'EngineUnavailableError', address: 'tcp://127.0.0.1:1' });
  });

  it('rejects an argument with exit 2, and has help', async () => {
    const bad = await loom(['doctor', 'now']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("loom doctor: unexpected argument 'now'");
    const help = await loom(['doctor', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: loom doctor [--json] [--host ADDRESS]');
    for (const { id, title } of CHECKS) expect(help.stdout).toMatch(new RegExp(`^ {2}${id.replace(/\./g, '\\.')} +${title}$`, 'm'));
    const top = await loom(['--help']);
    expect(top.stdout).toMatch(/^ {2}doctor \[--json\] +check /m);
  });
});
