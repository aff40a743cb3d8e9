// `loom exec` handing its run to a Loom host process of the same user (api/handoff-host.ts), end
// to end: real `loom exec` processes, a real host (the hand-off server on a real executor, as
// `loom ui` runs it), the real engine. Every behaviour is checked both ways, handed off and alone
// (LOOM_NO_HANDOFF=1), and must be the same; the host counts what it ran, so a test knows which
// way a run went.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answers, encodeHandoffFrame, HandoffFrameReader, MAX_FRAME_BYTES, socketPath, tokenPath } from '../api/handoff-channel';
import { startHandoffHost, type HandoffHost } from '../api/handoff-host';
import { askHostToStop } from './handoff-client';
import { createExecutor, type Executor } from '../engine/executor';
import { listManaged, removeContainer } from '../engine/pool/containers';
import { docker, requireEngineAndImages } from '../engine/testing/test-support';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = join(ROOT, 'bin', 'loom.js');
/** The `loom` command as installed: `loom exec` through the native client (bin/loom-exec.c). */
const LAUNCHER = join(ROOT, 'bin', 'loom');
const CLIENT = join(ROOT, 'out', 'cli', 'loom-exec');
/** A PATH with no `node` on it: a native client that fell back to Node fails instead of passing unseen. */
const NO_NODE_PATH = join(ROOT, 'no-node-on-this-path');
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

/**
 * How `loom exec` is started: 'node' (bin/loom.js, handing a protobuf request to the host),
 * 'alone' (LOOM_NO_HANDOFF=1), 'native' (bin/loom and its native client, handing over the command
 * line, with no `node` on PATH), 'launcher' (bin/loom with node on PATH, for what the client
 * leaves to Node).
 */
type Via = 'node' | 'alone' | 'native' | 'launcher';

/** `loom exec ARGS` with our LOOM_HOME, started `via`. */
function loomExec(
  args: string[],
  { via = 'node', onStdout, name = NAME, extraEnv = {} }: { via?: Via; onStdout?: (text: string, child: ChildProcess) => void; name?: string; extraEnv?: NodeJS.ProcessEnv } = {},
): Promise<Result> {
  const env: NodeJS.ProcessEnv = { ...process.env, LOOM_HOME: home, LOOM_KEEP_WARM: '0', LOOM_NO_HANDOFF: via === 'alone' ? '1' : '', ...extraEnv };
  if (via === 'native') env['PATH'] = NO_NODE_PATH;
  const [file, argv] = via === 'native' || via === 'launcher' ? [LAUNCHER, ['exec']] : [process.execPath, [BIN, 'exec']];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file, [...argv, '--name', name, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
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

/** The same `loom exec` every way: handed off by Node and by the native client, and alone, with how many runs the host took each time. */
async function everyWay(args: string[]): Promise<{ handed: Result; native: Result; alone: Result }> {
  const before = hostRuns;
  const handed = await loomExec(args);
  expect(hostRuns, `the host ran it (stderr: ${handed.stderr})`).toBe(before + 1);
  const native = await loomExec(args, { via: 'native' });
  expect(hostRuns, `the host ran it for the native client (stderr: ${native.stderr})`).toBe(before + 2);
  const alone = await loomExec(args, { via: 'alone' });
  expect(hostRuns, 'the host did not run it').toBe(before + 2);
  return { handed, native, alone };
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

  it('has the native client, built at npm ci', async () => {
    const mode = await stat(CLIENT).then((st) => st.mode, () => 0);
    expect(mode & 0o111, `${CLIENT} is missing: \`npm ci\` or \`node scripts/build-cli.mjs\` builds it (with cc, from bin/loom-exec.c)`).not.toBe(0);
  });

  it('streams the same output and ends with the same exit status as alone', { timeout: 240_000 }, async () => {
    const { handed, native, alone } = await everyWay(['--', 'python3', '-c', PROGRAM]);
    for (const r of [handed, native, alone]) {
      expect([r.code, r.stdout]).toEqual([3, 'to stdout\n']);
      expect(r.stderr).toContain('to stderr\n');
    }
    // The native client writes what the host's `loom exec` wrote, byte for byte.
    expect(native.stderr).toBe(handed.stderr);
  });

  it('answers --json with the same response fields as alone', { timeout: 240_000 }, async () => {
    const { handed, native, alone } = await everyWay(['--json', '--', 'python3', '-c', PROGRAM]);
    const a = JSON.parse(alone.stdout) as Record<string, unknown>;
    for (const r of [handed, native, alone]) {
      const j = JSON.parse(r.stdout) as Record<string, unknown>;
      expect(Object.keys(j).sort()).toEqual(Object.keys(a).sort());
      expect([r.code, j.exitCode, j.stdout, j.stderr]).toEqual([3, 3, 'to stdout\n', 'to stderr\n']);
    }
  });

  it('reports an engine error (a missing command) the same way', { timeout: 240_000 }, async () => {
    const { handed, native, alone } = await everyWay(['--json', '--', 'no-such-command-here']);
    const error = (r: Result): unknown => (JSON.parse(r.stdout) as { error?: { name?: string } }).error?.name;
    expect(error(alone)).toBeTruthy();
    for (const r of [handed, native]) expect([r.code, error(r)]).toEqual([alone.code, error(alone)]);
  });

  it('reports a usage error the same way through the native client, running nothing', { timeout: 60_000 }, async () => {
    const before = hostRuns;
    const native = await loomExec(['--memory', 'lots', '--', 'true'], { via: 'native' });
    const alone = await loomExec(['--memory', 'lots', '--', 'true'], { via: 'alone' });
    expect(native.code).toBe(2);
    expect([native.code, native.stdout, native.stderr]).toEqual([alone.code, alone.stdout, alone.stderr]);
    expect(hostRuns).toBe(before);
  });

  it('leaves a command line that reads local files to Node, which hands the run off itself', { timeout: 240_000 }, async () => {
    const input = join(home, 'input.txt');
    await writeFile(input, 'from a local file\n');
    const before = hostRuns;
    // Without node on PATH the client can only fail: the host declined, nothing ran. (A host
    // would have looked for ./wheels in its own directory.)
    for (const local of [['--stdin', input], ['--pip-find-links', './wheels', '--package', 'x']]) {
      const native = await loomExec([...local, '--', 'cat'], { via: 'native' });
      expect([native.code, native.stderr]).toEqual([125, expect.stringContaining('cannot start node')]);
    }
    expect(hostRuns).toBe(before);
    const launched = await loomExec(['--stdin', input, '--', 'cat'], { via: 'launcher' });
    expect([launched.code, launched.stdout]).toEqual([0, 'from a local file\n']);
    expect(hostRuns).toBe(before + 1);
  });

  it('stops with 141 when the reader of its output goes away, as alone', { timeout: 240_000 }, async () => {
    const program = ['--', 'python3', '-c', "import time\nwhile True:\n    print('x' * 1000, flush=True)\n    time.sleep(0.01)"];
    const closeStdout = (text: string, child: ChildProcess): void => {
      if (text.length > 10_000) child.stdout?.destroy();
    };
    const native = await loomExec(program, { via: 'native', onStdout: closeStdout });
    const alone = await loomExec(program, { via: 'alone', onStdout: closeStdout });
    expect([native.code, alone.code]).toEqual([141, 141]);
  });

  it('cancels the run on Ctrl+C, with the same exit status as alone', { timeout: 240_000 }, async () => {
    const program = ['--', 'python3', '-c', "import time\nprint('started', flush=True)\ntime.sleep(120)"];
    const interrupt = (text: string, child: ChildProcess): void => {
      if (text.includes('started')) child.kill('SIGINT');
    };
    const before = hostRuns;
    const t0 = Date.now();
    const handed = await loomExec(program, { onStdout: interrupt });
    const native = await loomExec(program, { via: 'native', onStdout: interrupt });
    expect(hostRuns).toBe(before + 2);
    const alone = await loomExec(program, { via: 'alone', onStdout: interrupt });
    // Ended by the interrupt, long before the program's 120 s.
    expect(Date.now() - t0).toBeLessThan(110_000);
    expect([handed.code, native.code, alone.code]).toEqual([130, 130, 130]);
    // The host's `loom exec` heard the client's Ctrl+C as its own.
    expect(native.stderr).toContain('SIGINT: stopping the program');
  });

  it('works alone when the token is not the host’s (and the host runs nothing)', { timeout: 240_000 }, async () => {
    const dir = join(home, 'run');
    const real = await readFile(tokenPath(dir), 'utf8');
    await writeFile(tokenPath(dir), 'not-the-token', { mode: 0o600 });
    try {
      const before = hostRuns;
      for (const via of ['node', 'launcher'] as const) {
        const r = await loomExec(['--', 'python3', '-c', "print('alone')"], { via });
        expect([r.code, r.stdout]).toEqual([0, 'alone\n']);
      }
      expect(hostRuns).toBe(before);
    } finally {
      await writeFile(tokenPath(dir), real, { mode: 0o600 });
    }
  });

  it('leaves the directory to a host that serves it already', async () => {
    expect(await startHandoffHost({ dir: join(home, 'run'), executor: () => Promise.resolve(executor) })).toBeNull();
  });

  it('of hosts started at once on one directory, lets one serve; the claim goes with it', async () => {
    const dir = join(home, 'burst');
    const hosts = await Promise.all([1, 2, 3, 4].map(() => startHandoffHost({ dir, executor: () => Promise.resolve(executor) })));
    const serving = hosts.filter((h) => h !== null);
    expect(serving).toHaveLength(1);
    expect(await answers(socketPath(dir))).toBe(true);
    await serving[0]?.close();
    expect(await stat(join(dir, 'host.lock')).catch(() => null)).toBeNull();
  });

  it('takes over a claim whose host is gone, or old with nothing serving; not a fresh one', async () => {
    const dir = join(home, 'claims');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const lock = join(dir, 'host.lock');
    const start = (): Promise<HandoffHost | null> => startHandoffHost({ dir, executor: () => Promise.resolve(executor) });
    // A live process (vitest's parent), claimed just now: it may be a host still starting.
    await writeFile(lock, String(process.ppid));
    expect(await start()).toBeNull();
    // The same, claimed a minute ago, with nothing at the socket: its host crashed, the PID reused.
    const minuteAgo = new Date(Date.now() - 60_000);
    await utimes(lock, minuteAgo, minuteAgo);
    const afterOld = await start();
    expect(afterOld).not.toBeNull();
    await afterOld?.close();
    // A process that has exited.
    const gone = spawn(process.execPath, ['-e', '0']);
    await new Promise((done) => gone.once('exit', done));
    await writeFile(lock, String(gone.pid));
    const afterGone = await start();
    expect(afterGone).not.toBeNull();
    await afterGone?.close();
  });
});

async function within(ms: number, check: () => Promise<boolean>): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 200))) if (await check()) return true;
  return false;
}

describe('loom host, started in the background by bin/loom when no host serves', () => {
  const name = `${NAME}-host`;
  afterAll(async () => {
    for (const c of await listManaged(docker)) if (c.configName === name) await removeContainer(docker, c.id);
  });

  it('serves the next loom exec, then stops by itself after LOOM_KEEP_WARM seconds without a run, with its containers', { timeout: 180_000 }, async () => {
    const own = await mkdtemp(join(tmpdir(), 'loom-host-'));
    const extraEnv = { LOOM_HOME: own, LOOM_KEEP_WARM: '5' };
    const sock = socketPath(join(own, 'run'));
    try {
      // No host: this one runs alone (through Node) and leaves a `loom host` behind it.
      const first = await loomExec(['--', 'python3', '-c', "print('first')"], { via: 'launcher', name, extraEnv });
      expect([first.code, first.stdout]).toEqual([0, 'first\n']);
      expect(await within(60_000, () => answers(sock)), 'a loom host serves the socket').toBe(true);
      // With no node on PATH, only that host can have run it.
      const served = await loomExec(['--', 'python3', '-c', "print('served')"], { via: 'native', name, extraEnv });
      expect([served.code, served.stdout], served.stderr).toEqual([0, 'served\n']);
      expect((await listManaged(docker)).some((c) => c.configName === name && c.parkedUntilMs === undefined), 'the host holds the container it ran that in').toBe(true);
      // 5 s without a run: it stops, removes its socket and token, and the containers it held.
      expect(await within(60_000, async () => !(await answers(sock))), 'the host stopped').toBe(true);
      expect(await within(10_000, async () => !(await stat(tokenPath(join(own, 'run'))).catch(() => null)))).toBe(true);
      expect(await within(20_000, async () => !(await listManaged(docker)).some((c) => c.configName === name && c.parkedUntilMs === undefined))).toBe(true);
    } finally {
      await rm(own, { recursive: true, force: true });
    }
  });

  it('stops on loom host --stop, once asked by its user; a host with a window declines', { timeout: 180_000 }, async () => {
    const own = await mkdtemp(join(tmpdir(), 'loom-host-'));
    const env = { ...process.env, LOOM_HOME: own };
    const sock = socketPath(join(own, 'run'));
    const loom = (args: string[], withEnv: NodeJS.ProcessEnv = env): Promise<Result> =>
      new Promise((done, fail) => {
        const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: withEnv, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
        child.once('error', fail);
        child.once('close', (code, signal) => done({ code, signal, stdout, stderr }));
      });
    try {
      expect(await loom(['host', '--stop'])).toMatchObject({ code: 0, stderr: expect.stringContaining('no loom host serves') });
      // (With an idle timer running, which must not keep it alive once stopped.)
      const serving = loom(['host', '--idle', '600']);
      expect(await within(60_000, () => answers(sock)), 'loom host serves').toBe(true);
      expect(await loom(['host', '--stop'])).toMatchObject({ code: 0, stderr: expect.stringContaining('stopped') });
      expect(await serving).toMatchObject({ code: 0, stderr: expect.stringContaining('asked to stop') });
      expect(await answers(sock)).toBe(false);
      // This file's own host (as loom ui serves) has no way to be stopped from outside.
      const declined = await loom(['host', '--stop'], { ...process.env, LOOM_HOME: home });
      expect(declined).toMatchObject({ code: 125, stderr: expect.stringContaining('declined') });
      expect(await answers(socketPath(join(home, 'run')))).toBe(true);
    } finally {
      await rm(own, { recursive: true, force: true });
    }
  });

  it('starts Node without NODE_EXTRA_CA_CERTS where nothing says https, and gives it back to the host it starts', { timeout: 180_000 }, async () => {
    const own = await mkdtemp(join(tmpdir(), 'loom-host-'));
    // A file that is not there: the Node that loads it says so on its stderr, as it starts.
    const ca = join(own, 'no-such-ca.pem');
    const loaded = 'Ignoring extra certs';
    const sock = socketPath(join(own, 'run'));
    try {
      const plain = await loomExec(['--', 'python3', '-c', "print('plain')"], { via: 'launcher', name, extraEnv: { LOOM_HOME: own, LOOM_KEEP_WARM: '5', NODE_EXTRA_CA_CERTS: ca } });
      expect([plain.code, plain.stdout], plain.stderr).toEqual([0, 'plain\n']);
      expect(plain.stderr).not.toContain(loaded);
      // The host it left behind serves any later run, an https collector's too: it has the variable.
      expect(await within(60_000, () => answers(sock)), 'a loom host serves the socket').toBe(true);
      const pid = Number(await readFile(join(own, 'run', 'host.lock'), 'utf8'));
      const environ = (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0');
      expect(environ).toContain(`NODE_EXTRA_CA_CERTS=${ca}`);
      expect(environ.some((v) => v.startsWith('LOOM_NODE_EXTRA_CA_CERTS='))).toBe(false);
      // An https collector (a closed port: the export fails, the run does not): Node keeps it.
      const tls = await loomExec(['--otlp', 'https://127.0.0.1:9', '--', 'python3', '-c', "print('tls')"], { via: 'launcher', name, extraEnv: { LOOM_HOME: own, LOOM_NO_HANDOFF: '1', NODE_EXTRA_CA_CERTS: ca } });
      expect([tls.code, tls.stdout], tls.stderr).toEqual([0, 'tls\n']);
      expect(tls.stderr).toContain(loaded);
    } finally {
      await askHostToStop({ ...process.env, LOOM_HOME: own });
      await rm(own, { recursive: true, force: true });
    }
  });

  it('starts none with LOOM_KEEP_WARM=0', { timeout: 120_000 }, async () => {
    const own = await mkdtemp(join(tmpdir(), 'loom-host-'));
    try {
      const r = await loomExec(['--', 'true'], { via: 'launcher', name, extraEnv: { LOOM_HOME: own, LOOM_KEEP_WARM: '0' } });
      expect(r.code).toBe(0);
      await new Promise((resolveWait) => setTimeout(resolveWait, 3000));
      expect(await answers(socketPath(join(own, 'run')))).toBe(false);
    } finally {
      await rm(own, { recursive: true, force: true });
    }
  });
});
