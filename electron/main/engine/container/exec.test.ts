// openExec against the real engine, in a child process: what matters is that the process can
// exit, which only a process of its own shows. runExec's end after a kill, against the real engine.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_IMAGES } from '../../../../shared/defaults';
import { connectDocker } from '../engine-client/docker-client';
import { runExec, STREAM_AFTER_KILL_MS } from './exec';

const HERE = dirname(fileURLToPath(import.meta.url));

function runChild(code: string, timeoutMs: number): Promise<{ code: number | null; out: string; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: HERE, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (exitCode) => {
      clearTimeout(timer);
      resolve({ code: exitCode, out, timedOut });
    });
  });
}

describe('openExec', () => {
  it('lets the process exit when the engine refuses the start (container removed after the create)', async () => {
    // The race of a pool removing a container while an agent or runner starts in it, made
    // certain: the container goes between the exec's create and its start.
    const code = `
      import { connectDocker } from ${JSON.stringify(join(HERE, '../engine-client/docker-client.ts'))};
      import { openExec } from ${JSON.stringify(join(HERE, 'exec.ts'))};
      const { docker } = connectDocker();
      const c = await docker.createContainer({ Image: ${JSON.stringify(DEFAULT_IMAGES.python)}, Entrypoint: ['sleep'], Cmd: ['infinity'], Labels: { 'dev.loom.test': 'exec' }, HostConfig: { NetworkMode: 'none' } });
      await c.start().catch(async (err) => {
        await c.remove({ force: true });
        throw err;
      });
      const create = c.exec.bind(c);
      c.exec = async (opts) => {
        const exec = await create(opts);
        await c.remove({ force: true });
        return exec;
      };
      await openExec(c, { argv: ['true'] }).then(
        () => console.log('started'),
        (err) => console.log('refused', err.statusCode),
      );
    `;
    const r = await runChild(code, 20_000);
    expect(r.timedOut, `the child did not exit: a socket was left open\n${r.out}`).toBe(false);
    expect(r.out).toMatch(/^refused (404|409|500)$/m);
    expect(r.code, r.out).toBe(0);
  }, 30_000);
});

describe('runExec', () => {
  it('answers a run killed at its timeout soon after the engine answered the kill, whether or not the stream has ended', async () => {
    const { docker } = connectDocker();
    const c = await docker.createContainer({
      Image: DEFAULT_IMAGES.python,
      Entrypoint: ['sleep'],
      Cmd: ['infinity'],
      Labels: { 'dev.loom.test': 'exec' },
      HostConfig: { NetworkMode: 'none' },
    });
    try {
      await c.start();
      // The fault: a kill the engine answers but whose end is slow to come, as a gVisor sandbox
      // full of a fork bomb's processes was (over 5 s): here it ends nothing at all.
      const t0 = performance.now();
      const r = await runExec(c, { argv: ['sleep', '30'], timeoutMs: 300, maxOutputBytes: 1024, kill: () => Promise.resolve() });
      const ms = performance.now() - t0;
      expect(r.timedOut).toBe(true);
      expect(r.exitCode).toBe(137);
      // What was on its way had its time to arrive; then the answer came, not 30 s later.
      expect(ms).toBeGreaterThanOrEqual(300 + STREAM_AFTER_KILL_MS - 50);
      expect(ms).toBeLessThan(300 + STREAM_AFTER_KILL_MS + 2_500);
    } finally {
      await c.remove({ force: true });
    }
  }, 30_000);
});
