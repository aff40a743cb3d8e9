// `loom exec` handing its run to a Loom host process of the same user (api/handoff-host.ts), end
// to end: real `loom exec` processes, a real host (the hand-off server on a real executor, as
// `loom ui` runs it), the real engine. Every behaviour is checked both ways, handed off and alone
// (LOOM_NO_HANDOFF=1), and must be the same; the host counts what it ran, so a test knows which
// way a run went.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeHandoffFrame, HandoffFrameReader, MAX_FRAME_BYTES, socketPath, tokenPath } from '../api/handoff-channel';
import { startHandoffHost, type HandoffHost } from '../api/handoff-host';
import { createExecutor, type Executor } from '../engine/executor';
import { requireEngineAndImages } from '../engine/testing/test-support';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = join(ROOT, 'bin', 'loom.js');
const NAME = `handoff-${randomBytes(3).toString('hex')}`;

describe('the hand-off frames', () => {
  it('reassembles frames split anywhere, and refuses one over the limit', () => {
    const reader = new HandoffFrameReader();
    const bytes = Buffer.concat([encodeHandoffFrame(10, Buffer.from('abc')), encodeHandoffFrame(11)]);
    const got = [...bytes].flatMap((b) => reader.push(Buffer.from([b])));
    expect(got.map((f) => [f.kind, f.payload.toString()])).toEqual([
      [10, 'abc'],
      [11, ''],
    ]);
    const huge = Buffer.alloc(5);
    huge.writeUInt32BE(MAX_FRAME_BYTES + 1, 0);
    expect(() => new HandoffFrameReader().push(huge)).toThrow(/out of step/);
  });
});

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

let home = '';
let executor: Executor;
let host: HandoffHost | null = null;
/** Runs the host's executor took. */
let hostRuns = 0;

beforeAll(async () => {
  await requireEngineAndImages();
  home = await mkdtemp(join(tmpdir(), 'loom-handoff-'));
  executor = await createExecutor({ minIdlePerConfig: 0, reapOrphans: false });
  host = await startHandoffHost({
    dir: join(home, 'run'),
    executor: async () => {
      hostRuns++;
      return executor;
    },
  });
}, 120_000);

afterAll(async () => {
  await host?.close();
  await executor?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

/** `loom exec ARGS` with our LOOM_HOME; alone with LOOM_NO_HANDOFF=1. */
function loomExec(args: string[], { alone = false, onStdout }: { alone?: boolean; onStdout?: (text: string, child: ChildProcess) => void } = {}): Promise<Result> {
  const env = { ...process.env, LOOM_HOME: home, LOOM_KEEP_WARM: '0', LOOM_NO_HANDOFF: alone ? '1' : '' };
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, 'exec', '--name', NAME, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
      onStdout?.(stdout, child);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

/** The same `loom exec` both ways: [handed off, alone], with how many runs the host took each time. */
async function bothWays(args: string[]): Promise<{ handed: Result; alone: Result }> {
  const before = hostRuns;
  const handed = await loomExec(args);
  expect(hostRuns, `the host ran it (stderr: ${handed.stderr})`).toBe(before + 1);
  const alone = await loomExec(args, { alone: true });
  expect(hostRuns, 'the host did not run it').toBe(before + 1);
  return { handed, alone };
}

const PROGRAM = "import sys\nprint('to stdout')\nprint('to stderr', file=sys.stderr)\nsys.exit(3)";

describe('loom exec handed to a Loom host process', () => {
  it('serves from a directory only the user can enter, with a socket and token only the user can open', async () => {
    expect(host).not.toBeNull();
    const dir = join(home, 'run');
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(socketPath(dir))).mode & 0o777).toBe(0o600);
    expect((await stat(tokenPath(dir))).mode & 0o777).toBe(0o600);
  });

  it('streams the same output and ends with the same exit status as alone', { timeout: 240_000 }, async () => {
    const { handed, alone } = await bothWays(['--', 'python3', '-c', PROGRAM]);
    expect([handed.code, handed.stdout, handed.stderr]).toEqual([3, 'to stdout\n', expect.stringContaining('to stderr\n')]);
    expect([alone.code, alone.stdout]).toEqual([3, 'to stdout\n']);
    expect(alone.stderr).toContain('to stderr\n');
  });

  it('answers --json with the same response fields as alone', { timeout: 240_000 }, async () => {
    const { handed, alone } = await bothWays(['--json', '--', 'python3', '-c', PROGRAM]);
    const h = JSON.parse(handed.stdout) as Record<string, unknown>;
    const a = JSON.parse(alone.stdout) as Record<string, unknown>;
    expect(Object.keys(h).sort()).toEqual(Object.keys(a).sort());
    expect([handed.code, h.exitCode, h.stdout, h.stderr]).toEqual([3, 3, 'to stdout\n', 'to stderr\n']);
    expect([alone.code, a.exitCode, a.stdout, a.stderr]).toEqual([3, 3, 'to stdout\n', 'to stderr\n']);
  });

  it('reports an engine error (a missing command) the same way', { timeout: 240_000 }, async () => {
    const { handed, alone } = await bothWays(['--json', '--', 'no-such-command-here']);
    expect(handed.code).toBe(alone.code);
    const error = (r: Result): unknown => (JSON.parse(r.stdout) as { error?: { name?: string } }).error?.name;
    expect(error(handed)).toBe(error(alone));
    expect(error(handed)).toBeTruthy();
  });

  it('cancels the run on Ctrl+C, with the same exit status as alone', { timeout: 240_000 }, async () => {
    const program = ['--', 'python3', '-c', "import time\nprint('started', flush=True)\ntime.sleep(120)"];
    const interrupt = (text: string, child: ChildProcess): void => {
      if (text.includes('started')) child.kill('SIGINT');
    };
    const before = hostRuns;
    const t0 = Date.now();
    const handed = await loomExec(program, { onStdout: interrupt });
    expect(hostRuns).toBe(before + 1);
    const alone = await loomExec(program, { alone: true, onStdout: interrupt });
    // Ended by the interrupt, long before the program's 120 s.
    expect(Date.now() - t0).toBeLessThan(110_000);
    expect(handed.code).toBe(alone.code);
    expect(handed.code).toBe(130);
  });

  it('works alone when the token is not the host’s (and the host runs nothing)', { timeout: 240_000 }, async () => {
    const dir = join(home, 'run');
    const real = await readFile(tokenPath(dir), 'utf8');
    await writeFile(tokenPath(dir), 'not-the-token', { mode: 0o600 });
    try {
      const before = hostRuns;
      const r = await loomExec(['--', 'python3', '-c', "print('alone')"]);
      expect([r.code, r.stdout]).toEqual([0, 'alone\n']);
      expect(hostRuns).toBe(before);
    } finally {
      await writeFile(tokenPath(dir), real, { mode: 0o600 });
    }
  });

  it('leaves the directory to a host that serves it already', async () => {
    expect(await startHandoffHost({ dir: join(home, 'run'), executor: () => Promise.resolve(executor) })).toBeNull();
  });
});
