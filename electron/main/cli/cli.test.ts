// The `loom` CLI end to end: every test spawns the real command (node bin/loom.js) against the
// real Docker engine and checks what a user sees: output, exit statuses, JSON, containers.
// Other Loom processes may share the engine, so the tests only look at (and only remove)
// containers they created themselves: found by our children's pids, our ids or our names.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { create } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_IMAGES, DEFAULT_LIFECYCLE, DEFAULT_LIMITS } from '../../../shared/defaults';
import { buildLocalIndex } from '../../../bench/wheels';
import { ExecuteEventSchema, ExecuteRequestSchema, NetworkMode, RuntimeType } from '../../../shared/gen/loom/v1/docker_pb';
import { listManaged, removeContainer, type ManagedContainer } from '../engine/pool/containers';
import { connectDocker } from '../engine/engine-client/docker-client';
import { HOST_SILENCE_MS } from '../engine/runner/client';
import { LABEL } from '../engine/pool/labels';
import { BASE_IMAGE_LABEL, PACKAGES_LABEL } from '../engine/packages/package-cache';
import { normalizeRequest, requestPolicyOf } from '../engine/request/request';
import { createScheduler } from '../engine/pool/scheduler';
import { ProgressReporter } from './progress';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = join(ROOT, 'bin', 'loom.js');
const IMAGE = DEFAULT_IMAGES.python;
const run = randomBytes(3).toString('hex');
const { docker } = connectDocker();

/** Pids of every CLI process we started: the owners of the containers they created. */
const childPids = new Set<number>();
const running = new Set<ChildProcess>();
/** Containers made directly with dockerode (for rm and prune). */
const madeIds = new Set<string>();
let workDir = '';

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stdoutBytes: Buffer;
  stderr: string;
  ms: number;
  pid: number;
}

interface LoomOptions {
  /** Written to the CLI's stdin, which is then closed (it is closed at once without). */
  input?: string | Buffer;
  timeoutMs?: number;
  /** Called with the child once started (signals, closing its stdout). */
  onSpawn?: (child: ChildProcess) => void;
  onStdout?: (text: string, child: ChildProcess) => void;
  /** The child's environment (default: ours). */
  env?: NodeJS.ProcessEnv;
  /** The child's working directory (default: the project root). */
  cwd?: string;
}

/** Runs `node bin/loom.js ARGS`; a run that outlives timeoutMs is killed and fails the test. */
function loom(args: string[], opts: LoomOptions = {}): Promise<Result> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const started = Date.now();
  return new Promise((resolvePromise, reject) => {
    // Containers are not kept warm for a next process unless a test asks for it; and each
    // process works alone, whatever Loom host runs for this user (handoff.test.ts tests that).
    const env = { LOOM_KEEP_WARM: '0', LOOM_NO_HANDOFF: '1', ...(opts.env ?? process.env) };
    const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? ROOT, stdio: ['pipe', 'pipe', 'pipe'], env });
    if (child.pid) childPids.add(child.pid);
    running.add(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => {
      out.push(d);
      opts.onStdout?.(Buffer.concat(out).toString('utf8'), child);
    });
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.stdout.on('error', () => undefined);
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`loom ${args.join(' ')} did not finish within ${timeoutMs} ms\nstderr: ${Buffer.concat(err).toString()}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      const stdoutBytes = Buffer.concat(out);
      resolvePromise({
        code,
        signal,
        stdout: stdoutBytes.toString('utf8'),
        stdoutBytes,
        stderr: Buffer.concat(err).toString('utf8'),
        ms: Date.now() - started,
        pid: child.pid ?? 0,
      });
    });
    opts.onSpawn?.(child);
  });
}

async function lsJson(): Promise<ManagedContainer[]> {
  const r = await loom(['containers', 'ls', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as ManagedContainer[];
}

async function poll<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function exists(id: string): Promise<boolean> {
  try {
    await docker.getContainer(id).inspect();
    return true;
  } catch {
    return false;
  }
}

/** A container carrying Loom's labels, as another Loom process (alive or dead) would have left it. */
async function makeManaged(tag: string, ownerPid: number): Promise<{ id: string; name: string }> {
  const name = `loom-clitest-${tag}-${run}`;
  const container = await docker.createContainer({
    name,
    Image: IMAGE,
    Entrypoint: ['sleep'],
    Cmd: ['infinity'],
    Labels: {
      [LABEL.managed]: 'true',
      [LABEL.poolKey]: `clitest-${run}`,
      [LABEL.runtime]: 'python',
      [LABEL.configName]: `clitest-${tag}-${run}`,
      [LABEL.ownerPid]: String(ownerPid),
      [LABEL.ownerHost]: hostname(),
      [LABEL.ownerInstance]: `clitest-${run}`,
    },
    HostConfig: { NetworkMode: 'none' },
  });
  madeIds.add(container.id);
  return { id: container.id, name };
}

/** A pid that no process has right now. */
function deadPid(): number {
  for (let pid = 999_999; ; pid--) {
    try {
      process.kill(pid, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') return pid;
    }
  }
}

/** Ours: made by one of our CLI processes or by this file. */
const ours = (c: ManagedContainer): boolean => childPids.has(c.ownerPid) || madeIds.has(c.id) || c.configName.endsWith(run);

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'loom-cli-test-'));
  await docker.getImage(IMAGE).inspect();
});

afterAll(async () => {
  for (const child of running) child.kill('SIGKILL');
  await Promise.all([...madeIds].map((id) => removeContainer(docker, id)));
  if (workDir) await rm(workDir, { recursive: true, force: true });
  // Every CLI process removes its containers before it exits: nothing of ours may remain.
  const left = (await listManaged(docker)).filter(ours);
  expect(left.map((c) => `${c.name} (owner ${c.ownerPid})`)).toEqual([]);
});

describe.concurrent('loom exec', () => {
  it('streams the program output and exits with its exit code', async ({ expect }) => {
    const r = await loom(['exec', '--', 'python3', '-c', 'import sys; print("to stdout"); print("to stderr", file=sys.stderr); sys.exit(3)']);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('to stdout\n');
    expect(r.stderr).toBe('to stderr\n');
  });

  it('takes the program from the first non-option argument without --', async ({ expect }) => {
    const r = await loom(['exec', '--quiet', 'python3', '-c', 'print("no dashes")']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('no dashes\n');
  });

  it('--json prints exactly one JSON object with the response', async ({ expect }) => {
    const r = await loom(['exec', '--json', '--', 'python3', '-c', 'import sys; print("héllo"); print("oops", file=sys.stderr); sys.exit(7)']);
    expect(r.code).toBe(7);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({ exitCode: 7, stdout: 'héllo\n', stderr: 'oops\n', containerCreated: true, timedOut: false, truncated: false, oomKilled: false });
    expect(out.containerId).toMatch(/^[0-9a-f]{64}$/);
    expect(typeof out.durationMs).toBe('number');
    expect(out.timings).toBeTypeOf('object');
    // What the program used, as the runner measured it in the container.
    const usage = out.usage as { wallMs: number; cpuMs: number; peakMemoryKb: string; via: string };
    expect(usage.via).toBe('runner');
    expect(usage.wallMs).toBeGreaterThan(0);
    expect(usage.cpuMs).toBeGreaterThan(0);
    // An int64: a decimal string in proto3 JSON.
    expect(usage.peakMemoryKb).toMatch(/^\d+$/);
    expect(Number(usage.peakMemoryKb)).toBeGreaterThan(1000);
    // The program's stderr is in the object, not on ours; no progress either.
    expect(r.stderr).toBe('');
  });

  it('--stdin - feeds our stdin, --stdin FILE a file', async ({ expect }) => {
    const file = join(workDir, 'input.txt');
    await writeFile(file, 'from a file\n');
    const program = ['python3', '-c', 'import sys; data = sys.stdin.read(); print(len(data), data.upper(), end="")'];
    const [piped, fromFile, none] = await Promise.all([
      loom(['exec', '--stdin', '-', '--', ...program], { input: 'piped input\n' }),
      loom(['exec', '--stdin', file, '--', ...program]),
      loom(['exec', '--', ...program]),
    ]);
    expect(piped.stdout).toBe('12 PIPED INPUT\n');
    expect(fromFile.stdout).toBe('12 FROM A FILE\n');
    expect(none.stdout).toBe('0 ');
  });

  it('--env reaches the program; --workdir sets its directory', async ({ expect }) => {
    const r = await loom([
      'exec',
      '--env', 'GREETING=hello',
      '-e', 'EQUATION=a=b',
      '--workdir', '/usr',
      '--',
      'python3', '-c', 'import os; print(os.environ["GREETING"], os.environ["EQUATION"], os.getcwd())',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('hello a=b /usr\n');
  });

  it('--timeout kills a runaway program: exit 124, timedOut in --json', async ({ expect }) => {
    const loop = ['python3', '-c', 'while True: pass'];
    const [plain, json] = await Promise.all([
      loom(['exec', '--timeout', '2', '--', ...loop], { timeoutMs: 30_000 }),
      loom(['exec', '--json', '--timeout', '2', '--', ...loop], { timeoutMs: 30_000 }),
    ]);
    expect(plain.code).toBe(124);
    expect(plain.stderr).toContain('loom: timed out after 2s');
    expect(plain.ms).toBeLessThan(15_000);
    expect(json.code).toBe(124);
    expect(JSON.parse(json.stdout)).toMatchObject({ timedOut: true });
    expect(json.ms).toBeLessThan(15_000);
  });

  it('--runtime node and --runtime custom', async ({ expect }) => {
    const [node, custom] = await Promise.all([
      loom(['exec', '--runtime', 'node', '--', 'node', '-e', 'console.log("node", typeof require); process.exitCode = 5']),
      loom(['exec', '--runtime', 'custom', '--image', IMAGE, '--', 'python3', '-c', 'print("custom")']),
    ]);
    expect(node.code, node.stderr).toBe(5);
    expect(node.stdout).toBe('node function\n');
    expect(custom.code, custom.stderr).toBe(0);
    expect(custom.stdout).toBe('custom\n');
  });

  it('installs --package from --pip-find-links and shows the installer output', async ({ expect }) => {
    // A minimal wheel, written by Python in a sandbox and passed through our stdout as bytes.
    const build = await loom(['exec', '--quiet', '--', 'python3', '-c', BUILD_WHEEL]);
    expect(build.code, build.stderr).toBe(0);
    const links = await mkdtemp(join(workDir, 'links-'));
    // mkdtemp makes it 0700; the installer runs as an unprivileged user in the container.
    await chmod(links, 0o755);
    await writeFile(join(links, 'loomclidemo-1.0-py3-none-any.whl'), build.stdoutBytes);

    const r = await loom(['exec', '--package', 'loomclidemo', '--pip-find-links', links, '--', 'python3', '-c', 'import loomclidemo; print(loomclidemo.GREETING)']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('hello from the wheel\n');
    expect(r.stderr).toContain('loom: installing packages: loomclidemo');
    expect(r.stderr).toMatch(/^loom: .*Successfully installed loomclidemo-1\.0$/m);

    const quiet = await loom(['exec', '--quiet', '--package', 'nosuchpackage', '--pip-find-links', links, '--', 'true']);
    expect(quiet.code).toBe(125);
    expect(quiet.stderr).toMatch(/^loom: pip install of nosuchpackage failed/m);
    expect(quiet.stderr).not.toContain('installing packages');

    // The installed set is cached as an image: listed, then pruned (no container uses it now).
    const ls = await loom(['images', 'ls', '--json']);
    const cached = (JSON.parse(ls.stdout) as { tag: string; packages: string[] }[]).find((i) => i.packages.includes('loomclidemo'));
    expect(cached?.tag).toMatch(/^loom-packages:[0-9a-f]{16}$/);
    const pruned = await loom(['images', 'prune']);
    expect(pruned.code).toBe(0);
    expect(pruned.stdout).toContain(cached!.tag);
  });

  it('installs --package ./file.tgz from any directory (the app and loom ui take them only from their packages directory)', async ({ expect }) => {
    const src = await mkdtemp(join(workDir, 'npm-src-'));
    await writeFile(join(src, 'package.json'), JSON.stringify({ name: 'loom-cli-local-demo', version: '1.0.0', main: 'index.js' }));
    await writeFile(join(src, 'index.js'), "module.exports = { value: 'from a file anywhere' };\n");
    const anywhere = await mkdtemp(join(workDir, 'anywhere-'));
    const file = execFileSync('npm', ['pack', '--silent', '--pack-destination', anywhere], { cwd: src }).toString().trim();
    // A packages directory of its own under LOOM_HOME, which the tarball is not in: loom exec ignores it.
    const home = await mkdtemp(join(workDir, 'home-'));
    const r = await loom(['exec', '--quiet', '--runtime', 'node', '--package', `./${file}`, '--', 'node', '-e', "console.log(require('loom-cli-local-demo').value)"], {
      cwd: anywhere,
      env: { ...process.env, LOOM_HOME: home },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('from a file anywhere\n');
    // Only the image of this install: other processes on the engine may be using theirs.
    const ls = await loom(['images', 'ls', '--json']);
    for (const image of JSON.parse(ls.stdout) as { id: string; packages: string[] }[]) {
      if (image.packages.some((p) => p.endsWith(`/${file}`))) await docker.getImage(image.id).remove().catch(() => undefined);
    }
  });

  it('reports an out-of-memory kill', async ({ expect }) => {
    const r = await loom(['exec', '--memory', '32', '--', 'python3', '-c', 'a = [bytearray(8 << 20) for _ in range(64)]']);
    expect(r.code).toBe(137);
    expect(r.stderr).toContain('loom: killed: out of memory (limit 32 MB)');
  });

  it('streams all output but marks the response truncated past 4 MB', async ({ expect }) => {
    const program = ['python3', '-c', 'import sys; sys.stdout.write("x" * 5_000_000)'];
    const [plain, json] = await Promise.all([loom(['exec', '--', ...program]), loom(['exec', '--json', '--', ...program])]);
    expect(plain.code).toBe(0);
    expect(plain.stdout.length).toBe(5_000_000);
    expect(plain.stderr).toMatch(/^loom: truncated: .*stdout/m);
    const out = JSON.parse(json.stdout) as { stdout: string; truncated: boolean; stdoutTruncated: boolean };
    expect(out.truncated).toBe(true);
    expect(out.stdoutTruncated).toBe(true);
    expect(out.stdout.length).toBe(4 * 1024 * 1024);
  });

  it('a missing program is a Loom error (125), without the runtime noise on stdout', async ({ expect }) => {
    const r = await loom(['exec', '--', 'no-such-program']);
    expect(r.code).toBe(125);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("no command 'no-such-program'");
  });

  it('stops the run when the reader of stdout goes away', async ({ expect }) => {
    const r = await loom(['exec', '--', 'python3', '-c', 'while True: print("y" * 1000)'], {
      timeoutMs: 30_000,
      onStdout: (_text, child) => child.stdout?.destroy(),
    });
    expect(r.code).toBe(141);
  });

  it('SIGINT/SIGTERM stop the program, remove the container and exit 130', async ({ expect }) => {
    const program = ['python3', '-c', 'import time; print("ready", flush=True); time.sleep(60)'];
    let sentInt = false;
    let sentTerm = false;
    const [plain, json] = await Promise.all([
      loom(['exec', '--', ...program], {
        timeoutMs: 30_000,
        onStdout: (text, child) => {
          if (!sentInt && text.includes('ready')) sentInt = child.kill('SIGINT');
        },
      }),
      // With --json nothing is streamed: wait for the container to run instead.
      loom(['exec', '--json', '--', ...program], {
        timeoutMs: 30_000,
        onSpawn: (child) =>
          void poll('the container to run', 20_000, async () =>
            (await listManaged(docker)).some((c) => c.ownerPid === child.pid && c.engineState === 'running') || undefined,
          ).then(() => setTimeout(() => (sentTerm = child.kill('SIGTERM')), 1000)),
      }),
    ]);
    expect(sentInt && sentTerm).toBe(true);
    expect(plain.code).toBe(130);
    expect(plain.stdout).toBe('ready\n');
    expect(json.code).toBe(130);
    expect(JSON.parse(json.stdout)).toEqual({ error: { name: 'AbortedError', message: 'interrupted by SIGTERM', signal: 'SIGTERM' } });
    const left = (await listManaged(docker)).filter((c) => c.ownerPid === plain.pid || c.ownerPid === json.pid);
    expect(left).toEqual([]);
  });
});

// Not concurrent with the other tests: any Loom process that starts meanwhile would reap the
// killed process's container (as it should), and with it the program, before the runner does.
describe('a loom exec killed mid-run', () => {
  it('SIGKILL: the runner kills the orphaned program once the dead process has been silent for HOST_SILENCE_MS', async ({ expect }) => {
    // Nothing of the CLI runs after SIGKILL: its container stays (the next Loom process reaps
    // it), and the runner, which outlives its host's stream, must stop the program itself
    // rather than let it run to its timeout for nobody.
    const marker = 4000 + Math.floor(Math.random() * 1000); // the program's `sleep N`, to find in the container
    const program = `import subprocess; print("ready", flush=True); subprocess.run(["sleep", "${marker}"])`;
    let killedAt = 0;
    const r = await loom(['exec', '--timeout', '120', '--', 'python3', '-c', program], {
      timeoutMs: 30_000,
      onStdout: (text, child) => {
        if (!killedAt && text.includes('ready')) {
          child.kill('SIGKILL');
          killedAt = Date.now();
        }
      },
    });
    expect(r.signal).toBe('SIGKILL');
    const container = (await listManaged(docker)).find((c) => c.ownerPid === r.pid);
    if (!container) throw new Error('the killed process left no container');
    madeIds.add(container.id); // removed after the file, as the next Loom process would
    const sleeping = async (): Promise<boolean> =>
      (((await docker.getContainer(container.id).top()) as { Processes?: string[][] }).Processes ?? []).some((p) => p.join(' ').includes(`sleep ${marker}`));
    expect(await sleeping()).toBe(true);
    await poll('the runner to kill the orphaned program', HOST_SILENCE_MS + 10_000, async () => ((await sleeping()) ? undefined : true));
    // Not before the silence (less the ping interval the process may have had left).
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(HOST_SILENCE_MS * 0.8 - 500);
  });
});

// The guide's Example 1: three spans of the program's own under Loom's docker.execute.
const EXAMPLE_1 = `
from loom_trace import tracer, trace_span

def main():
    print(f"Trace ID: {tracer.trace_id}")
    print(f"Parent Span ID: {tracer.parent_span_id}")
    with trace_span("load_data"):
        rows = [{"col": v} for v in [1, 2, 3, 4, 5]]
    with trace_span("process_data"):
        result = sum(r["col"] for r in rows)
        print(f"Sum: {result}")
    with trace_span("save_results"):
        print("Results saved")

if __name__ == "__main__":
    main()
`;

/** Our environment without the OpenTelemetry variables, so that only --otlp decides where traces go. */
const envWithoutOtel = (): NodeJS.ProcessEnv => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));

const SPAN_KEYS = ['attributes', 'endTimeUnixNano', 'name', 'parentSpanId', 'source', 'spanId', 'startTimeUnixNano', 'status', 'statusMessage', 'traceId'];
const DURATION = String.raw`\d+(?:\.\d)? (?:ns|µs|ms|s)`;

interface JsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Record<string, unknown>;
  status: string;
  statusMessage: string;
  source: string;
}

/** A local OTLP/HTTP collector: the JSON bodies POSTed to /v1/traces. */
async function otlpReceiver(): Promise<{ server: Server; port: number; bodies: unknown[]; paths: string[] }> {
  const bodies: unknown[] = [];
  const paths: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      paths.push(`${req.method} ${req.url}`);
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      bodies.push(JSON.parse(body.toString('utf8')));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, bodies, paths };
}

interface OtlpBody {
  resourceSpans?: { scopeSpans?: { spans?: { name: string; traceId: string; spanId: string; parentSpanId?: string }[] }[] }[];
}

describe.concurrent('loom exec tracing', () => {
  it('--trace prints the span tree on stderr after the run; stdout is only the program output', async ({ expect }) => {
    const [r, partial] = await Promise.all([
      loom(['exec', '--quiet', '--trace', '--', 'python3', '-c', EXAMPLE_1], { env: envWithoutOtel() }),
      loom(['exec', '--quiet', '--trace', '--', 'python3', '-c', 'import sys; sys.stderr.write("no newline")'], { env: envWithoutOtel() }),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const traceId = /^Trace ID: ([0-9a-f]{32})\n/.exec(r.stdout)?.[1];
    expect(traceId, r.stdout).toBeDefined();
    expect(r.stdout).toMatch(/^Trace ID: [0-9a-f]{32}\nParent Span ID: [0-9a-f]{16}\nSum: 15\nResults saved\n$/);

    const lines = r.stderr.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines[0]).toBe(`trace ${traceId} (7 spans)`);
    // docker.execute at the left margin, every other span its child, by start time.
    expect(lines[1]).toMatch(new RegExp(`^docker\\.execute \\(host\\) ${DURATION}$`));
    const children = lines.slice(2).map((line) => {
      const m = new RegExp(`^([├└])── (\\S+) \\((host|container)\\) ${DURATION}$`).exec(line);
      expect(m, line).not.toBeNull();
      return { branch: m?.[1], name: m?.[2], source: m?.[3] };
    });
    expect(children.map((c) => `${c.name} (${c.source})`)).toEqual([
      'docker.image (host)',
      'docker.container (host)',
      'docker.run (host)',
      'load_data (container)',
      'process_data (container)',
      'save_results (container)',
    ]);
    expect(children.map((c) => c.branch)).toEqual(['├', '├', '├', '├', '├', '└']);

    // Output that does not end its line does not run into the header.
    expect(partial.code, partial.stderr).toBe(0);
    expect(partial.stdout).toBe('');
    expect(partial.stderr).toMatch(new RegExp(`^no newline\\ntrace [0-9a-f]{32} \\(4 spans\\)\\ndocker\\.execute \\(host\\) ${DURATION}\\n├── docker\\.image`));
  });

  it('--json carries traceId and the spans in proto3 JSON; --trace then prints nothing', async ({ expect }) => {
    const [r, failed] = await Promise.all([
      loom(['exec', '--json', '--trace', '--', 'python3', '-c', EXAMPLE_1], { env: envWithoutOtel() }),
      loom(['exec', '--json', '--', 'python3', '-c', 'import sys; sys.exit(3)'], { env: envWithoutOtel() }),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { traceId: string; spans: JsonSpan[]; malformedSpans: number; droppedSpans: number; stdout: string };
    expect(out.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(out.stdout.startsWith(`Trace ID: ${out.traceId}\n`)).toBe(true);
    expect(out.malformedSpans).toBe(0);
    expect(out.droppedSpans).toBe(0);
    expect(out.spans).toHaveLength(7);
    for (const s of out.spans) {
      expect(Object.keys(s).sort()).toEqual(SPAN_KEYS);
      expect(s.statusMessage).toBeTypeOf('string');
      expect(s.traceId).toBe(out.traceId);
      expect(s.spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(s.parentSpanId).toMatch(/^(?:[0-9a-f]{16})?$/);
      expect(s.name).toBeTypeOf('string');
      expect(s.startTimeUnixNano).toMatch(/^[1-9]\d*$/);
      expect(s.endTimeUnixNano).toMatch(/^[1-9]\d*$/);
      expect(BigInt(s.endTimeUnixNano) >= BigInt(s.startTimeUnixNano)).toBe(true);
      expect(s.attributes).toBeTypeOf('object');
      expect(Array.isArray(s.attributes)).toBe(false);
      // Enum names as proto3 JSON spells them, as the app stores them.
      expect(['SPAN_STATUS_OK', 'SPAN_STATUS_ERROR', 'SPAN_STATUS_UNSPECIFIED']).toContain(s.status);
      expect(['SPAN_SOURCE_HOST', 'SPAN_SOURCE_CONTAINER']).toContain(s.source);
    }
    const root = out.spans.find((s) => s.name === 'docker.execute');
    expect(root).toMatchObject({ parentSpanId: '', source: 'SPAN_SOURCE_HOST', status: 'SPAN_STATUS_OK', statusMessage: '' });
    expect(out.stdout).toContain(`Parent Span ID: ${root?.spanId}\n`);
    const inside = out.spans.filter((s) => s.source === 'SPAN_SOURCE_CONTAINER');
    expect(inside.map((s) => s.name)).toEqual(['load_data', 'process_data', 'save_results']);
    for (const s of inside) expect(s).toMatchObject({ parentSpanId: root?.spanId, status: 'SPAN_STATUS_OK', attributes: {} });
    expect(out.spans.find((s) => s.name === 'docker.run')?.attributes).toMatchObject({ 'loom.exit_code': 0, 'loom.timed_out': false });

    // A failing program: its root span is an error, with the message.
    expect(failed.code).toBe(3);
    const failedOut = JSON.parse(failed.stdout) as { spans: JsonSpan[] };
    expect(failedOut.spans.find((s) => s.name === 'docker.execute')).toMatchObject({ status: 'SPAN_STATUS_ERROR', statusMessage: 'exit code 3' });
  });

  it('--otlp sends the trace to a collector before exiting', async ({ expect }) => {
    const collector = await otlpReceiver();
    try {
      const r = await loom(['exec', '--quiet', '--otlp', `http://127.0.0.1:${collector.port}`, '--', 'python3', '-c', EXAMPLE_1], { env: envWithoutOtel() });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      const traceId = /^Trace ID: ([0-9a-f]{32})\n/.exec(r.stdout)?.[1];
      // Received by the time the process is gone: it waited for the export.
      expect(collector.paths.every((p) => p === 'POST /v1/traces'), collector.paths.join()).toBe(true);
      const spans = (collector.bodies as OtlpBody[]).flatMap((b) => (b.resourceSpans ?? []).flatMap((rs) => (rs.scopeSpans ?? []).flatMap((ss) => ss.spans ?? [])));
      expect(spans.map((s) => s.name).sort()).toEqual(
        ['docker.container', 'docker.execute', 'docker.image', 'docker.run', 'load_data', 'process_data', 'save_results'].sort(),
      );
      for (const s of spans) expect(s.traceId.toLowerCase()).toBe(traceId);
      const root = spans.find((s) => s.name === 'docker.execute');
      for (const name of ['load_data', 'process_data', 'save_results']) expect(spans.find((s) => s.name === name)?.parentSpanId).toBe(root?.spanId);
    } finally {
      await new Promise((r) => collector.server.close(r));
    }
  });

  it('--otlp to a dead collector: the run still succeeds and exits within a few seconds', async ({ expect }) => {
    let outputAt = 0;
    const r = await loom(['exec', '--otlp', 'http://127.0.0.1:1', '--', 'python3', '-c', 'print("still here")'], {
      env: envWithoutOtel(),
      timeoutMs: 30_000,
      onStdout: () => (outputAt ||= Date.now()),
    });
    const exitedAt = Date.now();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('still here\n');
    expect(r.stderr).toMatch(/^loom: warning: .*ECONNREFUSED/m);
    // Container removal plus at most the exporter's 3 s.
    expect(exitedAt - outputAt).toBeLessThan(6_000);
  });

  it('--otlp rejects a URL that is not http(s) as a usage error', async ({ expect }) => {
    const r = await loom(['exec', '--otlp', 'ftp://example.com', '--', 'true']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--otlp');
  });
});

describe.concurrent('loom exec errors', () => {
  it.each([
    [['--memory', '12abc', '--', 'true'], '--memory'],
    [['--cpus', 'two', '--', 'true'], '--cpus'],
    [['--timeout', '1.5', '--', 'true'], '--timeout'],
    [['--bogus', '--', 'true'], '--bogus'],
    [['--env', 'NOEQUALS', '--', 'true'], '--env'],
    [['--runtime', 'cobol', '--', 'true'], '--runtime'],
    [['--network', 'host', '--', 'true'], '--network'],
    [['--timeout'], '--timeout'],
    [['--stdin', '/no/such/file', '--', 'true'], '--stdin'],
    [['--pip-find-links', '/no/such/dir', '--', 'true'], '--pip-find-links'],
    [[], 'COMMAND'],
    [['--quiet', '--'], 'COMMAND'],
  ])('usage error %j exits 2 naming %s', async (args, named) => {
    const r = await loom(['exec', ...args]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(named);
    expect(r.stderr).toContain("Run 'loom exec --help'");
  });

  it('an invalid value is the engine validation error (125) naming the field', async ({ expect }) => {
    const [plain, json] = await Promise.all([
      loom(['exec', '--memory', '-5', '--', 'true']),
      loom(['exec', '--json', '--memory', '-5', '--', 'true']),
    ]);
    expect(plain.code).toBe(125);
    expect(plain.stderr).toMatch(/^loom: .*memory_mb/);
    expect(json.code).toBe(125);
    expect(JSON.parse(json.stdout)).toEqual({
      error: expect.objectContaining({ name: 'ValidationError', field: 'config.resource_limits.memory_mb', problem: expect.any(String), message: expect.stringContaining('memory_mb') }),
    });
  });

  it('an unreachable engine exits 125 and says how to start one', async ({ expect }) => {
    const [exec, ls] = await Promise.all([
      loom(['exec', '--host', 'tcp://127.0.0.1:1', '--', 'true']),
      loom(['containers', 'ls', '--host', 'tcp://127.0.0.1:1']),
    ]);
    for (const r of [exec, ls]) {
      expect(r.code).toBe(125);
      expect(r.stderr).toContain('loom: Cannot connect to the Docker engine at tcp://127.0.0.1:1');
      expect(r.stderr).toMatch(/Start one and check that `docker info` answers/);
      expect(r.stderr).toContain('systemctl start docker');
    }
  });
});

describe('warm across processes', () => {
  it('a second loom exec with the same config reuses the container the first left warm', async () => {
    const args = ['exec', '--json', '--keep-warm', '120', '--name', `warm-${run}`, '--', 'python3', '-c', 'import os; print(os.getpid())'];
    const first = await loom(args);
    expect(first.code, first.stderr).toBe(0);
    const a = JSON.parse(first.stdout) as { containerId: string; containerCreated: boolean };
    expect(a.containerCreated).toBe(true);
    const parked = (await lsJson()).find((c) => c.id === a.containerId);
    // Parked with its expiry and the one execution it has served.
    expect(parked?.name).toMatch(/^loom-idle-[0-9a-f]{16}-\d+-1-[0-9a-f]{12}$/);
    expect(parked?.engineState).toBe('running');

    const second = await loom(args);
    expect(second.code, second.stderr).toBe(0);
    const b = JSON.parse(second.stdout) as { containerId: string; containerCreated: boolean; usage: { via: string } };
    expect(b.containerCreated).toBe(false);
    expect(b.containerId).toBe(a.containerId);
    // Through the parked container's own runner, attached again: not a docker exec fallback.
    expect(b.usage.via).toBe('runner');

    // prune removes parked containers at once.
    const pruned = await loom(['containers', 'prune']);
    expect(pruned.code).toBe(0);
    expect(await exists(a.containerId)).toBe(false);
  });
});

interface ExecJson {
  containerId: string;
  containerCreated: boolean;
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** `loom exec --json ARGS` that must succeed; its JSON (the container is then ours to remove). */
async function execJson(args: string[]): Promise<ExecJson> {
  const r = await loom(['exec', '--json', ...args]);
  expect(r.code, r.stderr + r.stdout).toBe(0);
  const out = JSON.parse(r.stdout) as ExecJson;
  madeIds.add(out.containerId);
  return out;
}

describe('exec options reach the container', () => {
  it('--cpus, --memory, --storage, --pids, --network bridge, --image, repeated --package, --max-executions, --rotation-hours', async () => {
    const index = buildLocalIndex([
      { name: 'loomclia', version: '1.0', value: 'from a' },
      { name: 'loomclib', version: '2.0', value: 'from b' },
    ]);
    // A tag only this run uses, so that the container's base image can only come from --image.
    const image = `loom-clitest-py:${run}`;
    await docker.getImage(IMAGE).tag({ repo: 'loom-clitest-py', tag: run });
    const name = `opts-${run}`;
    let id = '';
    let derived = '';
    try {
      const out = await execJson([
        '--keep-warm', '120', '--name', name, '--image', image,
        '--cpus', '1.5', '--memory', '96', '--storage', '48', '--pids', '77', '--network', 'bridge',
        '--max-executions', '5', '--rotation-hours', '2',
        '--pip-index-url', index.index, '--package', 'loomclib==2.0', '--package', 'loomclia==1.0',
        '--', 'python3', '-c', 'import loomclia, loomclib; print(loomclia.VALUE, loomclib.VALUE)',
      ]);
      id = out.containerId;
      expect(out).toMatchObject({ exitCode: 0, stdout: 'from a from b\n', containerCreated: true });

      // Kept warm: the container outlives the process, as the options made it.
      const info = await docker.getContainer(id).inspect();
      expect([info.HostConfig.CpuQuota, info.HostConfig.CpuPeriod]).toEqual([15_000, 10_000]);
      expect(info.HostConfig.Memory).toBe(96 * 1024 * 1024);
      expect(info.HostConfig.MemorySwap).toBe(96 * 1024 * 1024);
      expect(info.HostConfig.PidsLimit).toBe(77);
      expect(info.HostConfig.Tmpfs?.['/tmp']).toMatch(/(^|,)size=48m(,|$)/);
      expect(info.HostConfig.NetworkMode).toBe('bridge');
      expect(info.NetworkSettings.Networks.bridge?.IPAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(info.Config.Labels).toMatchObject({ [LABEL.configName]: name, [LABEL.runtime]: 'python' });

      // Both packages, installed on top of the --image base, in the image the container runs.
      derived = info.Config.Image;
      const labels = (await docker.getImage(derived).inspect()).Config.Labels ?? {};
      expect(labels[BASE_IMAGE_LABEL]).toBe(image);
      expect(labels[PACKAGES_LABEL]).toBe('loomclia==1.0 loomclib==2.0');

      // The lifecycle is no label of its own: it is part of the pool key, which must be the
      // key of exactly this config with 5 executions and 2 hours.
      const scheduler = await createScheduler({ packageSources: { pipIndexUrl: index.index }, reapOrphans: false, minIdlePerConfig: 0 });
      try {
        const request = (lifecycle: { maxExecutions: number; rotationIntervalHours: number }) =>
          normalizeRequest(
            create(ExecuteRequestSchema, {
              runtimeType: RuntimeType.PYTHON,
              command: ['true'],
              config: {
                name,
                runtimeType: RuntimeType.PYTHON,
                imageSource: { case: 'baseImage', value: image },
                packages: ['loomclib==2.0', 'loomclia==1.0'],
                networkMode: NetworkMode.BRIDGE,
                resourceLimits: { cpuCores: 1.5, memoryMb: 96n, storageMb: 48n, pidsLimit: 77 },
                lifecycle,
              },
            }),
            requestPolicyOf({}),
          );
        const keyOf = (lifecycle: { maxExecutions: number; rotationIntervalHours: number }): string => {
          const { container, lifecycle: lc } = request(lifecycle);
          return scheduler.poolKey(container, lc);
        };
        expect(info.Config.Labels[LABEL.poolKey]).toBe(keyOf({ maxExecutions: 5, rotationIntervalHours: 2 }));
        expect(keyOf({ maxExecutions: 5, rotationIntervalHours: 3 })).not.toBe(keyOf({ maxExecutions: 5, rotationIntervalHours: 2 }));
        expect(keyOf({ maxExecutions: 6, rotationIntervalHours: 2 })).not.toBe(keyOf({ maxExecutions: 5, rotationIntervalHours: 2 }));
      } finally {
        await scheduler.close();
      }
    } finally {
      if (id) await removeContainer(docker, id);
      if (derived) await docker.getImage(derived).remove().catch(() => undefined);
      await docker.getImage(image).remove().catch(() => undefined);
      index.remove();
    }
  });

  it('--max-executions retires a warm container after that many runs, across processes', async () => {
    const args = (n: number, tag: string): string[] => ['--keep-warm', '120', '--name', `${tag}-${run}`, '--max-executions', String(n), '--', 'python3', '-c', 'print(1)'];
    // 1: each process gets a new container, and none is left parked.
    const a = await execJson(args(1, 'max1'));
    expect(a.containerCreated).toBe(true);
    expect(await exists(a.containerId)).toBe(false);
    const b = await execJson(args(1, 'max1'));
    expect(b.containerCreated).toBe(true);
    expect(b.containerId).not.toBe(a.containerId);
    expect(await exists(b.containerId)).toBe(false);

    // 2: the second process takes the parked container and retires it; the third makes a new one.
    const c1 = await execJson(args(2, 'max2'));
    expect(c1.containerCreated).toBe(true);
    expect((await lsJson()).find((c) => c.id === c1.containerId)?.name).toMatch(/^loom-idle-[0-9a-f]{16}-\d+-1-[0-9a-f]{12}$/);
    const c2 = await execJson(args(2, 'max2'));
    expect(c2.containerCreated).toBe(false);
    expect(c2.containerId).toBe(c1.containerId);
    expect(await exists(c1.containerId)).toBe(false);
    const c3 = await execJson(args(2, 'max2'));
    expect(c3.containerCreated).toBe(true);
    expect(c3.containerId).not.toBe(c1.containerId);
    await removeContainer(docker, c3.containerId);
  });
});

describe('loom containers', () => {
  it('ls --json shows a container of a running loom exec, gone once it finishes', async () => {
    const name = `clils-${run}`;
    const exec = loom(['exec', '--name', name, '--', 'python3', '-c', 'import time; time.sleep(5)'], { timeoutMs: 60_000 });
    // Listed from its creation on: wait until it has started (a loaded machine shows "created" first).
    const seen = await poll('the exec container running in ls --json', 20_000, async () =>
      (await lsJson()).find((c) => c.configName === name && c.ownerAlive && c.engineState === 'running'),
    );
    expect(seen).toMatchObject({ image: IMAGE, runtime: 'python', engineState: 'running', ownerAlive: true, ownerHost: hostname() });
    expect(seen.name).toContain(`loom-${name}-`);

    const table = await loom(['containers', 'ls']);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+NAME\s+IMAGE\s+RUNTIME\s+STATE\s+CREATED\s+OWNER$/);
    const row = table.stdout.split('\n').find((l) => l.startsWith(seen.id.slice(0, 12)));
    expect(row).toMatch(new RegExp(`^${seen.id.slice(0, 12)}\\s+${seen.name}\\s+${IMAGE}\\s+python\\s+running\\s+\\d+[smhd]\\s+${seen.ownerPid}$`));

    const done = await exec;
    expect(done.code, done.stderr).toBe(0);
    expect((await lsJson()).find((c) => c.id === seen.id)).toBeUndefined();
  });

  it('rm removes managed containers by id prefix or name and names the unknown ones', async () => {
    const a = await makeManaged('rm-a', process.pid);
    const b = await makeManaged('rm-b', process.pid);
    const unknown = `nosuch-${run}`;
    const short = await loom(['containers', 'rm', a.id.slice(0, 4)]);
    expect(short.code).toBe(1);
    expect(short.stderr).toContain(`no container managed by Loom has the id or name '${a.id.slice(0, 4)}' (an id prefix needs at least 12 characters)`);
    expect(await exists(a.id)).toBe(true);
    const r = await loom(['containers', 'rm', a.id.slice(0, 12), unknown, b.name]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`'${unknown}'`);
    expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual([a.id.slice(0, 12), b.id.slice(0, 12)].sort());
    expect(await exists(a.id)).toBe(false);
    expect(await exists(b.id)).toBe(false);

    const none = await loom(['containers', 'rm']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('missing ID');
  });

  it('prune removes containers whose owner is gone and keeps the others', async () => {
    const dead = await makeManaged('prune-dead', deadPid());
    const alive = await makeManaged('prune-alive', process.pid);

    const table = await loom(['containers', 'ls']);
    // (Another Loom process starting up may reap the orphan first: then there is no row to check.)
    const row = table.stdout.split('\n').find((l) => l.startsWith(dead.id.slice(0, 12)));
    if (row) expect(row).toMatch(/\d+ gone$/);

    const r = await loom(['containers', 'prune']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^removed \d+ containers?$/m);
    expect(await exists(dead.id)).toBe(false);
    expect(await exists(alive.id)).toBe(true);
  });
});

describe.concurrent('help and version', () => {
  const EXEC_OPTIONS = [
    'runtime', 'image', 'package', 'cpus', 'memory', 'storage', 'pids', 'timeout', 'network', 'env', 'stdin', 'workdir',
    'max-executions', 'rotation-hours', 'keep-warm', 'name', 'quiet', 'json', 'trace', 'otlp', 'host', 'pip-index-url', 'pip-find-links', 'npm-registry', 'ca-file', 'help',
    'code', 'compile-timeout', 'isolation', 'file', 'artifacts', 'traceparent',
  ];

  it('loom exec --help lists every option with the defaults', async ({ expect }) => {
    const r = await loom(['exec', '--help']);
    expect(r.code).toBe(0);
    for (const option of EXEC_OPTIONS) expect(r.stdout).toContain(`--${option}`);
    // Long lines wrap: compare with the whitespace folded.
    const text = r.stdout.replace(/\s+/g, ' ');
    for (const value of [DEFAULT_LIMITS.memoryMb, DEFAULT_LIMITS.storageMb, DEFAULT_LIMITS.pidsLimit, DEFAULT_LIMITS.executionTimeoutSeconds, DEFAULT_LIFECYCLE.maxExecutions, DEFAULT_LIFECYCLE.rotationIntervalHours]) {
      expect(text).toContain(`default: ${value}`);
    }
    // --image's default is per runtime.
    for (const [runtime, image] of Object.entries(DEFAULT_IMAGES)) expect(text).toContain(`${runtime}: ${image}`);
    // -h anywhere before the program, even after other options.
    expect((await loom(['exec', '--memory', '64', '-h'])).stdout).toBe(r.stdout);
  });

  it.each([
    [['--help'], ['exec', 'containers', 'images', '--version']],
    [['containers', '--help'], ['ls', 'rm', 'prune']],
    [['containers', 'ls', '--help'], ['--json', '--host']],
    [['containers', 'rm', '--help'], ['ID...', '--host']],
    [['containers', 'prune', '-h'], ['--all', '--host']],
    [['images', '--help'], ['ls', 'prune', 'package']],
    [['images', 'ls', '--help'], ['--json', '--host']],
    [['images', 'prune', '-h'], ['--host']],
  ])('loom %j mentions %j', async (args, words) => {
    const r = await loom(args);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: loom/);
    for (const w of words) expect(r.stdout).toContain(w);
  });

  it('no arguments: help on stderr, exit 2; unknown commands exit 2', async ({ expect }) => {
    const [bare, unknown, sub] = await Promise.all([loom([]), loom(['frobnicate']), loom(['containers', 'frob'])]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/^Usage: loom/);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("'frobnicate'");
    expect(sub.code).toBe(2);
    expect(sub.stderr).toContain("'frob'");
  });

  it('--version prints the package version', async ({ expect }) => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await loom(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`loom ${pkg.version}\n`);
  });
});

describe('progress lines', () => {
  it('one line per layer status change and a throttled percentage, not one per byte event', () => {
    const lines: string[] = [];
    let now = 0;
    const reporter = new ProgressReporter({ write: (l) => lines.push(l), now: () => now, intervalMs: 1000 });
    const pull = (layer: string, status: string, current = 0, total = 0): void =>
      reporter.onEvent(create(ExecuteEventSchema, { event: { case: 'pull', value: { image: 'img:1', layer, status, current, total } } }));
    pull('1', 'Pulling from library/img');
    pull('aaaaaaaaaaaaaaaa', 'Pulling fs layer');
    for (let i = 1; i <= 1000; i++) {
      now += 10;
      pull('aaaaaaaaaaaaaaaa', 'Downloading', i * 1000, 1_000_000);
    }
    pull('aaaaaaaaaaaaaaaa', 'Download complete');
    pull('', 'Status: Downloaded newer image for img:1');
    expect(lines.filter((l) => l.includes('Downloading'))).toHaveLength(1);
    const percents = lines.filter((l) => l.includes('%'));
    expect(percents.length).toBeGreaterThanOrEqual(9);
    expect(percents.length).toBeLessThanOrEqual(11);
    expect(lines[0]).toBe('pulling img:1');
    expect(lines).toContain('  aaaaaaaaaaaa: Pulling fs layer');
    expect(lines.at(-1)).toBe('  Status: Downloaded newer image for img:1');
  });
});

/** Python that writes a minimal pure-Python wheel (loomclidemo 1.0) to stdout. */
const BUILD_WHEEL = `
import base64, hashlib, io, sys, zipfile
files = {
    "loomclidemo/__init__.py": 'GREETING = "hello from the wheel"\\n',
    "loomclidemo-1.0.dist-info/METADATA": "Metadata-Version: 2.1\\nName: loomclidemo\\nVersion: 1.0\\n",
    "loomclidemo-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\\nGenerator: loom-cli-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
buf = io.BytesIO()
record = []
with zipfile.ZipFile(buf, "w") as z:
    for path, text in files.items():
        z.writestr(path, text)
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text)}")
    record.append("loomclidemo-1.0.dist-info/RECORD,,")
    z.writestr("loomclidemo-1.0.dist-info/RECORD", "\\n".join(record) + "\\n")
sys.stdout.buffer.write(buf.getvalue())
`;
