// Loom's latency, throughput, package cache, cross-process reuse, memory and the cost of the
// clean slate between runs, against baselines measured in the same run, with the targets of
// issues 5 and 12 (met / not met).
//
//   npm run bench [-- --json] [--quick] [--n-warm N] [--n-cold N] [--throughput-total N]
//
// Not a test: it measures and prints, and never fails on a missed target. Progress goes to
// stderr; stdout carries the tables (or, with --json, exactly one JSON object).
//
// What is timed (wall clock, performance.now(), from this process):
//   rawExec   one running container made with Loom's own createOptions (same user, read-only
//             root, cap-drop, tmpfs, limits, network none); per run: exec create + start
//             (hijack, stdin half-closed at once) + demux until the stream ends + exec.inspect
//             polled until it has the exit code. No Loom code on the timed path.
//   rawCold   per run: create (createOptions, but the program as the container's own command)
//             + attach + start + wait for exit, output read from the attach stream (what
//             `docker run` does; the sandbox log driver is `none`, so there are no logs to
//             read). Removal is NOT timed: it is awaited after the clock stops.
//   warm      executor.execute() of the same request, caller's view, after a warm-up that
//             repeats a run until one reports usage.via 'runner' (a new container's first
//             program waits for its runner; runs that still went by exec are counted).
//             rawExec and warm alternate in blocks of WARM_BLOCK runs (see there why).
//   warm node execute() of a node hello after the same warm-up, each run after an untimed pause
//             of NODE_PACE_MS: a program arriving at an idle container, as one from a person or
//             an agent between its steps does. Node cannot fork, so every program needs a fresh
//             node (isolation), which the runner starts ahead, while idle (~30 ms of CPU here).
//             The same runs back to back are reported too (warmNodeBackToBack): there each run
//             waits for the start-up of the node the previous one began.
//   cold      execute() with lifecycle.maxExecutions 1: every run creates a container. The
//             pool removes the spent container in the background; the bench waits (untimed)
//             for that removal to finish before the next run, so both cold paths start from a
//             quiet engine, like rawCold.
//   packages  the same cold run with two tiny wheels (built here by the host's python3, served
//             from a local PEP 503 index directory): the first run installs them and caches
//             the result as an image (packagesFirstInstallMs); the timed runs must start from
//             that image with no install step (violations are counted).
//   throughput  8 workers sharing one executor key with 4 pre-warmed containers, each with its
//             runner up; the raw baseline is the same with 4 raw containers. 1000 Loom runs and
//             200 raw ones, each side in two blocks (raw, Loom, Loom, raw), 1 s apart (untimed).
//             Also the whole machine's CPU per run over each side's blocks (/proc/stat): where the
//             CPUs are full, the rate is set by it.
//   second process  `node bin/loom.js exec --json --keep-warm 120` twice in a row: the second
//             must claim the container the first parked. Wall time is spawn to exit; a process
//             still running 3 s after its container was parked is stopped (by its pid) and
//             reported as not exiting by itself, and the times are then spawn until its JSON
//             was out and the container parked. The container is removed afterwards.
//   rss       a host's RSS with 16 pooled containers (4 configs x 4), in a process of their own
//             (bench/pooled-rss.ts), next to that process's RSS before its executor existed.
//   clean slate  the clean-up between runs (bench/clean-slate.ts): the same warm python runner
//             in a container that cleans after every run and in one started with --keep-state
//             (a session's), a hello and a program that leaves 1,000 files, back to back in
//             blocks of 10 alternating between the two; the targets are the differences of p50.
// rawCold/cold/packages (one by one) and rawExec/warm (in blocks) are interleaved, order
// rotating, so that noise from other users of the engine hits every side of each ratio alike.
// The header carries the load average: on a shared, busy machine the medians are noisy, the
// ratios less so.
//
// Clean-up: every container the bench or its executors made is removed (also on SIGINT or
// SIGTERM); the package cache images this run built are removed at exit, after the report.
import { create } from '@bufbuild/protobuf';
import type Docker from 'dockerode';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { startHandoffHost } from '../electron/main/api/handoff-host';
import { createOptions, SANDBOX_USER } from '../electron/main/engine/container/container';
import { connectDocker } from '../electron/main/engine/engine-client/docker-client';
import { createExecutor, type ExecuteRequestInput, type Executor } from '../electron/main/engine/executor';
import { isOrphan, listManaged, removeContainer } from '../electron/main/engine/pool/containers';
import { currentOwner, LABEL } from '../electron/main/engine/pool/labels';
import { listPackageImages, type CachedPackageImage } from '../electron/main/engine/packages/package-cache';
import { normalizeRequest, requestPolicyOf, WRITABLE_DIR } from '../electron/main/engine/request/request';
import { ExecuteRequestSchema, Phase, RuntimeType, type ExecuteEvent, type ExecuteResponse } from '../shared/gen/loom/v1/docker_pb';
import { fmt, formatTable, percentile, ratio, round, summarize, type Summary } from './stats';
import { measureSessions } from './sessions';
import { measureCleanSlate } from './clean-slate';
import { measureMcpHttp, measureMcpStdio } from './mcp-bench';
import { measureLanguages } from './languages';
import { GVISOR_WARM_TARGET, IDLE_PACE_MS, measureGvisor } from './gvisor';
import { evaluateTargets, ratioText, TARGETS, verdict } from './targets';
import { buildLocalIndex, type LocalIndex } from './wheels';
import { benchTraces } from './traces-bench';
import { measureCliFigures, type CliFigures } from './cli-figures';
import { measureFlood } from './ui-flood';
import { measurePooledRss, RSS_CONFIGS, RSS_PER_CONFIG } from './pooled-rss';
import { warmPoolToRunner, type RunnerWait } from './warm-pool';
import { containerCpuMs, MACHINE_PROBE, machineCpuMs, machinePageFaults, parseMachineProbe, runFaults, type MachineFigures } from './machine';

// ---------------------------------------------------------------- options

interface Options {
  json: boolean;
  nWarm: number;
  nCold: number;
  throughputTotal: number;
  concurrency: number;
  containers: number;
}

const USAGE = `usage: npm run bench [-- [--json] [--quick] [--n-warm N] [--n-cold N] [--throughput-total N]]
  --json               print one JSON object on stdout (progress on stderr)
  --quick              halve every count
  --n-warm N           warm runs per figure (default 50)
  --n-cold N           cold runs per figure, with and without packages (default 15)
  --throughput-total N Loom executions in the throughput run (default 1000; the raw baseline
                       runs a fifth as many, at least 40: it is ten times slower)`;

function parseArgs(argv: string[]): Options {
  const opts = { json: false, quick: false, nWarm: 50, nCold: 15, throughputTotal: 1000 };
  const count = (flag: string, raw: string | undefined): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) usage(`${flag} needs a whole number >= 1, got '${raw ?? ''}'`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = (argv[i] as string).split(/=(.*)/s, 2) as [string, string | undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--json':
        opts.json = true;
        break;
      case '--quick':
        opts.quick = true;
        break;
      case '--n-warm':
        opts.nWarm = count(flag, value());
        break;
      case '--n-cold':
        opts.nCold = count(flag, value());
        break;
      case '--throughput-total':
        opts.throughputTotal = count(flag, value());
        break;
      case '--help':
      case '-h':
        process.stderr.write(`${USAGE}\n`);
        process.exit(0);
        break;
      default:
        usage(`unknown option '${flag}'`);
    }
  }
  const scale = (n: number): number => (opts.quick ? Math.max(1, Math.ceil(n / 2)) : n);
  return {
    json: opts.json,
    nWarm: scale(opts.nWarm),
    nCold: scale(opts.nCold),
    throughputTotal: scale(opts.throughputTotal),
    concurrency: 8,
    containers: 4,
  };
}

function usage(message: string): never {
  process.stderr.write(`bench: ${message}\n${USAGE}\n`);
  process.exit(2);
}

// ---------------------------------------------------------------- requests

const PY_HELLO = ['python3', '-c', "print('hello')"];
const NODE_HELLO = ['node', '-e', "console.log('hello')"];
const EXPECTED = 'hello\n';
/** Concurrent MCP client sessions against `loom mcp --http` (issue 15). */
const MCP_HTTP_SESSIONS = 50;

const pyWarmRequest: ExecuteRequestInput = { command: PY_HELLO };
const pyColdRequest: ExecuteRequestInput = { command: PY_HELLO, config: { lifecycle: { maxExecutions: 1 } } };
const nodeWarmRequest: ExecuteRequestInput = { runtimeType: RuntimeType.NODE, command: NODE_HELLO };

/** The two wheels of the packages figure; the program imports both, then prints as the others do. */
const WHEELS = [
  { name: 'loombencha', version: '1.0', value: 'a' },
  { name: 'loombenchb', version: '1.0', value: 'b' },
] as const;
const PKG_HELLO = ['python3', '-c', `import ${WHEELS.map((w) => w.name).join(', ')}; print('hello')`];

/** How long a warm-up may wait for a container's runner before the bench measures anyway. */
const RUNNER_WAIT_MS = 30_000;
const CLI_TIMEOUT_MS = 60_000;
/** How long a `loom exec` process may stay after parking its container before the bench stops it. */
const EXIT_GRACE_MS = 3_000;
/** rawExec and warm samples are taken in blocks of this many a side (see the warm phase). */
const WARM_BLOCK = 10;
/** The raw side's runs in the throughput figure, for `loomTotal` Loom runs. */
const rawThroughputTotal = (loomTotal: number): number => Math.max(40, Math.round(loomTotal / 5));
/** The untimed pause between throughput blocks (see there). */
const BLOCK_SETTLE_MS = 1000;
/** The untimed pause before each warm node run (see the header). */
const NODE_PACE_MS = 100;
const ROOT = fileURLToPath(new URL('..', import.meta.url));

// ---------------------------------------------------------------- clean-up

const log = (line: string): void => {
  process.stderr.write(`[bench] ${line}\n`);
};

const cleanups: (() => Promise<unknown>)[] = [];
let cleaning: Promise<void> | undefined;

/** Runs every registered clean-up once, newest first; safe to call from several places. */
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const step of cleanups.splice(0).reverse()) {
      await step().catch((err: unknown) => log(`clean-up step failed: ${String(err)}`));
    }
  })();
  return cleaning;
}

let interrupted = false;

function onSignal(signal: NodeJS.Signals): void {
  interrupted = true;
  if (cleaning) {
    log(`${signal} again: exiting without finishing the clean-up`);
    process.exit(130);
  }
  log(`${signal}: cleaning up`);
  void cleanup().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
}

/** Removes every container (running or not) that carries this label=value. */
async function removeByLabel(docker: Docker, label: string): Promise<number> {
  const found = await docker.listContainers({ all: true, filters: { label: [label] } });
  await Promise.all(found.map((c) => removeContainer(docker, c.Id)));
  return found.length;
}

/** Removes whatever still carries one of these owner instances (the last line of defence). */
async function sweep(docker: Docker, instances: string[]): Promise<number> {
  let removed = 0;
  for (const instance of instances) removed += await removeByLabel(docker, `${LABEL.ownerInstance}=${instance}`);
  return removed;
}

/** A clean-up that runs once however often it is called (by its phase, then by cleanup()). */
function once(step: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= step());
}

async function waitGone(docker: Docker, id: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      await docker.getContainer(id).inspect();
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return;
      throw err;
    }
    await sleep(20);
  }
  log(`container ${id.slice(0, 12)} still exists ${timeoutMs} ms after its run`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** A sleep that does not keep the process alive: for races against something that does. */
const unrefSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

// ---------------------------------------------------------------- raw dockerode baselines

interface RunResult {
  ms: number;
  exitCode: number;
  stdout: string;
}

function collector(): { sink: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      cb();
    },
  });
  return { sink, text: () => Buffer.concat(chunks).toString('utf8') };
}

function streamEnd(stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', () => resolve());
  });
}

/** Raw baseline: one `docker exec` of argv into a running container, as a client would do it. */
async function rawExec(docker: Docker, container: Docker.Container, argv: string[]): Promise<RunResult> {
  const t0 = performance.now();
  const exec = await container.exec({
    Cmd: argv,
    // The same per-run variable Loom adds, so both sides send the same request.
    Env: [`LOOM_EXECUTION_ID=${randomUUID()}`],
    User: SANDBOX_USER,
    WorkingDir: WRITABLE_DIR,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
  });
  const stream = (await exec.start({ hijack: true, stdin: true })) as Duplex;
  const out = collector();
  const err = collector();
  docker.modem.demuxStream(stream, out.sink, err.sink);
  stream.on('error', () => undefined);
  const ended = streamEnd(stream);
  stream.end();
  await ended;
  let exitCode: number | null = null;
  for (let i = 0; i < 500 && exitCode === null; i++) {
    const info = await exec.inspect();
    if (!info.Running && info.ExitCode !== null) exitCode = info.ExitCode;
    else await sleep(i < 10 ? 2 : 20);
  }
  const ms = performance.now() - t0;
  return { ms, exitCode: exitCode ?? -1, stdout: out.text() };
}

/** Raw baseline: create + attach + start + wait of a container whose command is the program. */
async function rawCold(docker: Docker, options: Docker.ContainerCreateOptions, argv: string[], created: Set<string>): Promise<RunResult> {
  const name = `loom-bench-rawcold-${randomBytes(4).toString('hex')}`;
  created.add(name);
  const t0 = performance.now();
  const container = await docker.createContainer({
    ...options,
    name,
    Entrypoint: [argv[0] as string],
    Cmd: argv.slice(1),
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = await container.attach({ stream: true, stdout: true, stderr: true });
  const out = collector();
  const err = collector();
  docker.modem.demuxStream(stream, out.sink, err.sink);
  const ended = streamEnd(stream);
  await container.start();
  const waited = (await container.wait()) as { StatusCode: number };
  await ended;
  const ms = performance.now() - t0;
  // Untimed: removal.
  await removeContainer(docker, container.id);
  created.delete(name);
  return { ms, exitCode: waited.StatusCode, stdout: out.text() };
}

// ---------------------------------------------------------------- Loom

interface LoomRun extends RunResult {
  response: ExecuteResponse;
  /** usage.via of the response: 'runner' or 'exec'. */
  via: string;
}

async function loomRun(executor: Executor, request: ExecuteRequestInput, onEvent?: (e: ExecuteEvent) => void): Promise<LoomRun> {
  const t0 = performance.now();
  const response = await executor.execute(request, onEvent ? { onEvent } : undefined);
  const ms = performance.now() - t0;
  return { ms, exitCode: response.exitCode, stdout: Buffer.from(response.stdout).toString('utf8'), response, via: response.usage?.via ?? '' };
}

/** What a run showed of a package install: installer lines, a PACKAGES phase, packagesMs. */
interface InstallSeen {
  installLogs: number;
  packagesPhase: boolean;
}

function installWatcher(): { seen: InstallSeen; onEvent: (e: ExecuteEvent) => void } {
  const seen: InstallSeen = { installLogs: 0, packagesPhase: false };
  const onEvent = (e: ExecuteEvent): void => {
    if (e.event.case === 'installLog') seen.installLogs++;
    else if (e.event.case === 'phase' && e.event.value.phase === Phase.PACKAGES) seen.packagesPhase = true;
  };
  return { seen, onEvent };
}

function installed(seen: InstallSeen, r: LoomRun): boolean {
  return seen.installLogs > 0 || seen.packagesPhase || (r.response.timings?.packagesMs ?? 0) > 0;
}

/**
 * Warm-up of one container: repeats the run, with small sleeps, until one goes by the
 * in-container runner (the first run of a new container goes by docker exec while the runner
 * starts), or RUNNER_WAIT_MS pass.
 */
async function warmUpToRunner(executor: Executor, request: ExecuteRequestInput, what: string, problems: Problems): Promise<RunnerWait> {
  const deadline = performance.now() + RUNNER_WAIT_MS;
  for (let runs = 1; ; runs++) {
    const r = await loomRun(executor, request);
    check(problems, `${what} warm-up`, r);
    if (r.via === 'runner') return { runs, ready: true, containerId: r.response.containerId };
    if (performance.now() > deadline) {
      log(`${what}: the runner is still not up after ${runs} runs; measuring anyway (runs by exec are counted)`);
      return { runs, ready: false, containerId: r.response.containerId };
    }
    await sleep(runs < 20 ? 25 : 100);
  }
}

// ---------------------------------------------------------------- the loom CLI, as a separate process

interface CliResponse {
  containerId: string;
  containerCreated: boolean;
  exitCode: number;
  stdout: string;
  /** The CLI's own durationMs (its execute() call), not the process's. */
  durationMs: number;
}

interface CliRun {
  /** Spawn until its JSON was on stdout. */
  jsonMs: number;
  /** Spawn until the JSON was out and the container parked (or gone): when a next process could claim it. */
  doneMs: number;
  /** Spawn until the process exited by itself; NaN when it had to be stopped. */
  exitMs: number;
  exitedByItself: boolean;
  /** Whether its container was parked (renamed loom-idle-...) after the run. */
  parked: boolean;
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  response: CliResponse | null;
}

/**
 * Runs `node bin/loom.js ARGS` and times it. A process that parks its container should exit
 * right after; one still running EXIT_GRACE_MS after its container is parked is stopped (by
 * its pid: SIGTERM, then SIGKILL) and reported as not exiting by itself.
 */
async function runLoomCli(docker: Docker, args: readonly string[]): Promise<CliRun> {
  const t0 = performance.now();
  // Alone: the figure is the parked container's, whatever Loom host runs for this user.
  const child = spawn(process.execPath, ['bin/loom.js', ...args], { cwd: ROOT, env: { ...process.env, LOOM_NO_HANDOFF: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let exitAt = Number.NaN;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      exitAt = performance.now();
      resolve({ code, signal });
    });
  });
  const json = new Promise<{ response: CliResponse; at: number } | null>((resolve) => {
    child.stdout.on('data', (c: Buffer) => {
      out.push(c);
      const response = parseCliJson(Buffer.concat(out).toString('utf8'));
      if (response) resolve({ response, at: performance.now() });
    });
    void exited.then(() => resolve(null), () => resolve(null));
  });
  child.stderr.on('data', (c: Buffer) => err.push(c));
  const stop = async (): Promise<void> => {
    const gone = (ms: number): Promise<boolean> => Promise.race([exited.then(() => true, () => true), unrefSleep(ms).then(() => false)]);
    child.kill('SIGTERM');
    if (!(await gone(5_000))) {
      child.kill('SIGKILL');
      await gone(5_000);
    }
  };

  const got = await Promise.race([json, unrefSleep(CLI_TIMEOUT_MS).then(() => null)]);
  let doneAt = Number.NaN;
  let parked = false;
  if (got) {
    // The container is parked by the process's close(), after the JSON is written.
    const deadline = performance.now() + 30_000;
    for (;;) {
      const name = await docker
        .getContainer(got.response.containerId)
        .inspect()
        .then((info) => info.Name.replace(/^\//, ''))
        .catch(() => null);
      if (name === null || name.startsWith('loom-idle-')) {
        parked = name !== null;
        doneAt = performance.now();
        break;
      }
      if (performance.now() > deadline || !Number.isNaN(exitAt)) {
        doneAt = Number.isNaN(exitAt) ? performance.now() : exitAt;
        break;
      }
      await sleep(20);
    }
  }
  let exitedByItself = await Promise.race([exited.then(() => true, () => true), unrefSleep(got ? EXIT_GRACE_MS : 0).then(() => false)]);
  if (!exitedByItself) {
    log(`loom exec (pid ${child.pid ?? '?'}) still runs ${got ? `${EXIT_GRACE_MS / 1000} s after its container was parked` : `after ${CLI_TIMEOUT_MS / 1000} s`}: stopping it`);
    await stop();
    exitedByItself = false;
  }
  const { code, signal } = await exited.catch(() => ({ code: null, signal: null }));
  return {
    jsonMs: got ? got.at - t0 : Number.NaN,
    doneMs: doneAt - t0,
    exitMs: exitedByItself ? exitAt - t0 : Number.NaN,
    exitedByItself,
    parked,
    code,
    signal,
    stderr: Buffer.concat(err).toString('utf8'),
    response: got?.response ?? null,
  };
}

function parseCliJson(text: string): CliResponse | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const o = value as Record<string, unknown>;
  if (typeof o.containerId !== 'string' || typeof o.containerCreated !== 'boolean' || typeof o.exitCode !== 'number') return null;
  return {
    containerId: o.containerId,
    containerCreated: o.containerCreated,
    exitCode: o.exitCode,
    stdout: typeof o.stdout === 'string' ? o.stdout : '',
    durationMs: typeof o.durationMs === 'number' ? o.durationMs : Number.NaN,
  };
}

interface SecondProcess {
  first: CliRun;
  /** null when it was not started (the first gave no answer). */
  second: CliRun | null;
  sameContainer: boolean;
  /**
   * What the wall times measure: 'exit' (spawn to exit) when both processes exited by
   * themselves, else 'parked' (spawn until the JSON was out and the container parked).
   */
  basis: 'exit' | 'parked';
  firstWallMs: number;
  secondWallMs: number;
  /** Containers of the bench's config name removed afterwards (the parked one). */
  removed: number;
}

/**
 * Two `loom exec --keep-warm` processes in a row with the same (unique) config: the first
 * creates a container and parks it at exit; the second should claim it. Afterwards the
 * container is removed by its config-name label (not `loom containers prune`, which would also
 * remove other people's parked containers on a shared engine).
 */
async function measureSecondProcess(docker: Docker, problems: Problems): Promise<SecondProcess> {
  const name = `bench-${randomBytes(4).toString('hex')}`;
  const args = ['exec', '--json', '--keep-warm', '120', '--name', name, '--', 'python3', '-c', 'print(1)'];
  let removed = 0;
  const removeOurs = once(async () => {
    removed = await removeByLabel(docker, `${LABEL.configName}=${name}`);
  });
  cleanups.push(removeOurs);
  // Each `loom exec` first removes the orphans of this host; one the engine cannot remove
  // stalls it (the bench then reports the figure as not measured).
  const orphans = (await listManaged(docker)).filter((c) => isOrphan(c));
  if (orphans.length) {
    log(
      `second process: ${orphans.length} orphan container(s) on the engine (${orphans.map((c) => `${c.name} ${c.engineState}`).join(', ')}); ` +
        'every loom exec removes them first',
    );
  }
  const runs: CliRun[] = [];
  for (const which of ['first', 'second']) {
    if (runs[0] && !runs[0].response) {
      log('second process: the first loom exec gave no answer; not starting the second');
      break;
    }
    const r = await runLoomCli(docker, args);
    runs.push(r);
    const res = r.response;
    if (!res || res.exitCode !== 0 || res.stdout !== '1\n' || (r.exitedByItself && r.code !== 0)) {
      problems.wrongOutput.push(
        `${which} loom exec: exit ${r.code ?? r.signal}, ${res ? `stdout ${JSON.stringify(res.stdout)}` : 'no JSON'}, stderr ${JSON.stringify(r.stderr.slice(0, 300))}`,
      );
    }
    log(
      `${which} loom exec process: JSON after ${fmt(r.jsonMs)} ms, container ${r.parked ? 'parked' : 'not parked'} after ${fmt(r.doneMs)} ms, ` +
        `${r.exitedByItself ? `exited by itself after ${fmt(r.exitMs)} ms` : 'did not exit by itself'}; containerCreated ${res ? String(res.containerCreated) : '?'}`,
    );
  }
  await removeOurs();
  const [first, second = null] = runs as [CliRun, CliRun?];
  const basis = first.exitedByItself && second?.exitedByItself ? 'exit' : 'parked';
  const wallOf = (r: CliRun | null): number => (r === null ? Number.NaN : basis === 'exit' ? r.exitMs : r.doneMs);
  return {
    first,
    second,
    sameContainer: Boolean(first.response && second?.response && first.response.containerId === second.response.containerId),
    basis,
    firstWallMs: wallOf(first),
    secondWallMs: wallOf(second),
    removed,
  };
}

// ---------------------------------------------------------------- the run

interface Problems {
  /** Runs whose exit code or output was wrong. */
  wrongOutput: string[];
  /** Warm runs that created a container. */
  warmButCreated: number;
  /** Cold runs (maxExecutions 1, with or without packages) that reused a container. */
  coldButReused: number;
  /** Throughput runs that created a container even though 4 were pre-warmed. */
  throughputCreated: number;
  /** Timed runs that went by docker exec instead of the runner. */
  warmViaExec: number;
  warmNodeViaExec: number;
  throughputViaExec: number;
  /** Cached-package runs (after the first install) that showed an install step. */
  packagesInstalled: number;
}

function check(problems: Problems, what: string, r: Pick<RunResult, 'exitCode' | 'stdout'>): void {
  if (r.exitCode !== 0 || r.stdout !== EXPECTED) {
    problems.wrongOutput.push(`${what}: exit ${r.exitCode}, stdout ${JSON.stringify(r.stdout.slice(0, 200))}`);
  }
}

const MB = 1024 * 1024;

/** The machine's own costs, in the raw container (NaN where the probe failed). */
async function measureMachine(docker: Docker, container: Docker.Container): Promise<MachineFigures> {
  try {
    const r = await rawExec(docker, container, ['python3', '-c', MACHINE_PROBE]);
    return parseMachineProbe(r.stdout);
  } catch (err) {
    log(`machine: not measured (${err instanceof Error ? err.message : String(err)})`);
    return { pageFaultUs: Number.NaN, forkExitMs: Number.NaN };
  }
}
const loadText = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' / ');

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const startedAt = performance.now();
  const loadAtStart = loadavg();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const { docker, address } = connectDocker();
  for (const image of ['python:3.11-slim', 'node:20-slim']) {
    try {
      await docker.getImage(image).inspect();
    } catch {
      throw new Error(`image ${image} is not present on ${address}: build it first (npm run images)`);
    }
  }
  const version = await docker.version();
  // The bench's own memory at start (the RSS figure itself is taken in a process of its own).
  const memBaseline = process.memoryUsage();
  // The `loom` figures (the CLI's, MCP's) are of the bundle a user runs, built here from these
  // sources as `npm ci` builds it: bin/loom.js runs the sources through tsx when one is newer than
  // the bundle, which an edit since the last build would otherwise measure (3-7x slower).
  execFileSync(process.execPath, [fileURLToPath(new URL('../scripts/build-cli.mjs', import.meta.url))], { stdio: 'ignore' });
  log(
    `engine ${version.Version} (API ${version.ApiVersion}) at ${address}; n-warm ${opts.nWarm}, n-cold ${opts.nCold}, throughput ${opts.throughputTotal}; ` +
      `load average ${loadText(loadAtStart)} on ${cpus().length} CPUs`,
  );
  const phases: Record<string, number> = {};
  let phaseStart = performance.now();
  const endPhase = (name: string): void => {
    const now = performance.now();
    phases[name] = (now - phaseStart) / 1000;
    phaseStart = now;
  };
  const onError = (e: unknown): void => log(`engine background error: ${String(e)}`);
  // Every executor here is made with reapOrphans false: removing other processes' leftovers is
  // not the bench's job on a shared engine, and it can block createExecutor for as long as the
  // engine takes to answer (seen here: another process's container, paused in the middle of an
  // exec, whose forced removal did not return).

  // The raw baselines use Loom's own create options for the same request, so the security
  // settings (and limits) are identical; only the code path differs.
  const rawOwner = currentOwner(`bench-raw-${randomUUID()}`);
  const spec = normalizeRequest(create(ExecuteRequestSchema, pyWarmRequest), requestPolicyOf({})).container;
  const sandboxOptions = createOptions({ spec, poolKey: 'benchraw', owner: rawOwner });
  const rawCreated = new Set<string>();
  cleanups.push(async () => {
    for (const name of rawCreated) await removeContainer(docker, name);
    const swept = await sweep(docker, [rawOwner.instance]);
    if (swept) log(`swept ${swept} leftover raw container(s)`);
  });

  // No background top-ups: the cold figure must measure real cold starts.
  const executor = await createExecutor({ docker, maxContainersPerKey: opts.containers, minIdlePerConfig: 0, reapOrphans: false, onError });
  const loomInstance = executor.scheduler.owner.instance;
  const closeMain = once(async () => {
    await executor.close();
    const swept = await sweep(docker, [loomInstance]);
    if (swept) log(`swept ${swept} container(s) the executor left behind`);
  });
  cleanups.push(closeMain);

  const problems: Problems = {
    wrongOutput: [],
    warmButCreated: 0,
    coldButReused: 0,
    throughputCreated: 0,
    warmViaExec: 0,
    warmNodeViaExec: 0,
    throughputViaExec: 0,
    packagesInstalled: 0,
  };
  const samples = {
    rawCold: [] as number[],
    cold: [] as number[],
    coldContainerMs: [] as number[],
    packagesCold: [] as number[],
    packagesColdContainerMs: [] as number[],
    rawExec: [] as number[],
    warm: [] as number[],
    warmNode: [] as number[],
    warmNodeBackToBack: [] as number[],
    throughputLatency: [] as number[],
    rawThroughputLatency: [] as number[],
    /** Page faults from RUN to EXIT (program + runner), per timed run that reported them. */
    warmFaults: [] as number[],
    warmRunnerFaults: [] as number[],
    warmNodeFaults: [] as number[],
  };
  const warmContainerIds = new Set<string>();

  // --- packages: two wheels in a local index, an executor that installs from it, and the
  // first install, which builds the cache image (loom-packages:<hash>) every later run uses.
  log('packages: building two wheels and a local PEP 503 index; first install');
  const index: LocalIndex = buildLocalIndex(WHEELS);
  const removeIndex = once(async () => index.remove());
  cleanups.push(removeIndex);
  const packageImagesBefore = new Set((await listPackageImages(docker)).map((i) => i.id));
  const pkgExecutor = await createExecutor({
    docker,
    reapOrphans: false,
    packageSources: { pipIndexUrl: index.index },
    maxContainersPerKey: opts.containers,
    minIdlePerConfig: 0,
    onError,
  });
  const pkgInstance = pkgExecutor.scheduler.owner.instance;
  // The cache images this run made: new since the start and holding exactly our wheels
  // (their key includes the index directory, so no one else's image matches).
  const ourPackageImages = async (): Promise<CachedPackageImage[]> =>
    (await listPackageImages(docker)).filter((i) => !packageImagesBefore.has(i.id) && WHEELS.every((w) => i.packages.includes(`${w.name}==${w.version}`)));
  // Other Loom processes on a shared engine prune unused cache images (`loom images prune`,
  // the packages tests): a created, never started container of the image keeps it "in use",
  // so that the cached runs measure the cache and not a rebuild.
  const pinName = `loom-bench-pin-${randomBytes(4).toString('hex')}`;
  // The images are removed at exit, after the report: an image removal waits for the engine's
  // lock on every container, so one stuck container elsewhere would hold up the figures.
  const removePackageImages = once(async () => {
    await removeContainer(docker, pinName);
    const removed: string[] = [];
    for (const image of await ourPackageImages()) {
      try {
        await docker.getImage(image.id).remove();
        removed.push(image.tag);
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode !== 404) throw err;
      }
    }
    log(`removed ${removed.length} package cache image(s) this run made: ${removed.join(', ') || '-'}`);
    await removeIndex();
  });
  cleanups.push(removePackageImages);
  const closePackages = once(async () => {
    await pkgExecutor.close();
    const swept = await sweep(docker, [pkgInstance]);
    if (swept) log(`swept ${swept} container(s) the packages executor left behind`);
  });
  cleanups.push(closePackages);
  const pkgRequest: ExecuteRequestInput = { command: PKG_HELLO, config: { packages: index.requirements, lifecycle: { maxExecutions: 1 } } };
  const firstWatch = installWatcher();
  const firstInstall = await loomRun(pkgExecutor, pkgRequest, firstWatch.onEvent);
  check(problems, 'packages first install', firstInstall);
  const firstInstallSawInstall = installed(firstWatch.seen, firstInstall);
  if (!firstInstallSawInstall) log('packages: the first run showed no install step (a cache image left by an earlier run?)');
  log(`packages: first install ${fmt(firstInstall.ms)} ms (install ${fmt(firstInstall.response.timings?.packagesMs ?? NaN)} ms, ${firstWatch.seen.installLogs} installer lines)`);
  await waitGone(docker, firstInstall.response.containerId);
  const cacheImage = (await ourPackageImages())[0];
  if (cacheImage) {
    await docker.createContainer({ name: pinName, Image: cacheImage.id, Entrypoint: ['true'], Cmd: [], Labels: { [LABEL.ownerInstance]: rawOwner.instance } });
  } else {
    log('packages: no cache image was found after the first install');
  }
  /** Whether the cache image is still there (checked, untimed, before each cached run). */
  const cacheImagePresent = async (): Promise<boolean> =>
    cacheImage
      ? docker
          .getImage(cacheImage.id)
          .inspect()
          .then(() => true)
          .catch(() => false)
      : false;
  let packagesCacheImageMissing = 0;
  endPhase('packagesFirstInstall');

  // --- cold: rawCold vs Loom with maxExecutions 1, without and with the cached packages
  // (first, so that no warm container exists). The order rotates run by run.
  let packagesCachedRuns = 0;
  const coldRun = {
    raw: async (what: string): Promise<number> => {
      const r = await rawCold(docker, sandboxOptions, PY_HELLO, rawCreated);
      check(problems, what, r);
      return r.ms;
    },
    loom: async (what: string): Promise<{ ms: number; containerMs: number }> => {
      // The same event listener as the packages runs, so that both pay for the events alike.
      const watch = installWatcher();
      const r = await loomRun(executor, pyColdRequest, watch.onEvent);
      check(problems, what, r);
      if (!r.response.containerCreated) problems.coldButReused++;
      await waitGone(docker, r.response.containerId); // untimed
      return { ms: r.ms, containerMs: r.response.timings?.containerMs ?? Number.NaN };
    },
    packages: async (what: string): Promise<{ ms: number; containerMs: number }> => {
      if (!(await cacheImagePresent())) {
        packagesCacheImageMissing++;
        log(`${what}: the cache image is gone before the run (removed from outside?)`);
      }
      const watch = installWatcher();
      const r = await loomRun(pkgExecutor, pkgRequest, watch.onEvent);
      check(problems, what, r);
      if (!r.response.containerCreated) problems.coldButReused++;
      packagesCachedRuns++;
      if (installed(watch.seen, r)) {
        problems.packagesInstalled++;
        log(`${what}: an install step (${watch.seen.installLogs} installer lines, packages phase ${String(watch.seen.packagesPhase)})`);
      }
      await waitGone(docker, r.response.containerId); // untimed
      return { ms: r.ms, containerMs: r.response.timings?.containerMs ?? Number.NaN };
    },
  };
  log('cold: warm-up');
  await coldRun.raw('rawCold warm-up');
  await coldRun.loom('cold warm-up');
  await coldRun.packages('packages cold warm-up');
  const kinds = ['raw', 'loom', 'packages'] as const;
  for (let i = 0; i < opts.nCold; i++) {
    const order = [...kinds.slice(i % kinds.length), ...kinds.slice(0, i % kinds.length)];
    for (const kind of order) {
      if (kind === 'raw') {
        samples.rawCold.push(await coldRun.raw(`rawCold #${i}`));
      } else if (kind === 'loom') {
        const r = await coldRun.loom(`cold #${i}`);
        samples.cold.push(r.ms);
        samples.coldContainerMs.push(r.containerMs);
      } else {
        const r = await coldRun.packages(`packages cold #${i}`);
        samples.packagesCold.push(r.ms);
        samples.packagesColdContainerMs.push(r.containerMs);
      }
    }
    log(
      `cold ${i + 1}/${opts.nCold}: raw ${fmt(samples.rawCold.at(-1) ?? NaN)} ms, loom ${fmt(samples.cold.at(-1) ?? NaN)} ms, ` +
        `loom + 2 cached packages ${fmt(samples.packagesCold.at(-1) ?? NaN)} ms`,
    );
  }
  await closePackages();
  endPhase('cold');

  // --- warm: rawExec vs Loom warm, python, both warmed up (Loom's until its runner is up).
  log('warm: starting the raw container and warming both sides up');
  const rawName = `loom-bench-rawexec-${randomBytes(4).toString('hex')}`;
  rawCreated.add(rawName);
  const rawContainer = await docker.createContainer({ ...sandboxOptions, name: rawName });
  await rawContainer.start();
  check(problems, 'rawExec warm-up', await rawExec(docker, rawContainer, PY_HELLO));
  const machine = await measureMachine(docker, rawContainer);
  log(`machine: a page fault ${fmt(machine.pageFaultUs, 2)} us, fork + exit ${fmt(machine.forkExitMs, 2)} ms (in a container)`);
  const warmWait = await warmUpToRunner(executor, pyWarmRequest, 'warm', problems);
  // CPU per warm run inside the container (the program, the runner, its spare's pre-faulting,
  // the clean-up) and in this process; the raw runs are in another container.
  const warmCpuAtStart = containerCpuMs(warmWait.containerId);
  let hostCpuUs = 0;
  const runRaw = async (i: number): Promise<void> => {
    const r = await rawExec(docker, rawContainer, PY_HELLO);
    check(problems, `rawExec #${i}`, r);
    samples.rawExec.push(r.ms);
  };
  const runLoom = async (i: number): Promise<void> => {
    const cpu0 = process.cpuUsage();
    const r = await loomRun(executor, pyWarmRequest);
    const cpu = process.cpuUsage(cpu0);
    hostCpuUs += cpu.user + cpu.system;
    check(problems, `warm #${i}`, r);
    if (r.response.containerCreated) problems.warmButCreated++;
    if (r.via !== 'runner') problems.warmViaExec++;
    warmContainerIds.add(r.response.containerId);
    samples.warm.push(r.ms);
    const faults = runFaults(r.response);
    if (faults) {
      samples.warmFaults.push(faults.program + faults.runner);
      samples.warmRunnerFaults.push(faults.runner);
    }
  };
  // In blocks of WARM_BLOCK runs a side, the order alternating: a slow drift of the machine
  // hits both sides, and no sample pays for the engine's teardown of the other side's sample
  // just before it (a raw docker exec leaves runc and containerd cleaning up for milliseconds
  // after its stream ends; measured: right before a Loom run, it doubled that run's time).
  for (let first = 0, block = 0; first < opts.nWarm; first += WARM_BLOCK, block++) {
    const ids = Array.from({ length: Math.min(WARM_BLOCK, opts.nWarm - first) }, (_, k) => first + k);
    for (const side of block % 2 === 0 ? [runRaw, runLoom] : [runLoom, runRaw]) {
      for (const i of ids) await side(i);
    }
  }
  await sleep(500); // the last run's clean-up and its spare's pre-faulting belong to it too
  const warmCpuAtEnd = containerCpuMs(warmWait.containerId);
  const warmContainerCpuMsPerRun = warmCpuAtStart === null || warmCpuAtEnd === null || warmContainerIds.size !== 1 ? Number.NaN : (warmCpuAtEnd - warmCpuAtStart) / samples.warm.length;
  const warmHostCpuMsPerRun = hostCpuUs / 1000 / samples.warm.length;
  log(
    `warm: raw p50 ${fmt(percentile(samples.rawExec, 50))} ms, loom p50 ${fmt(percentile(samples.warm, 50))} ms (warm-up ${warmWait.runs} runs; ${problems.warmViaExec} timed runs by exec); ` +
      `page faults p50 ${fmt(percentile(samples.warmFaults, 50), 0)} (runner ${fmt(percentile(samples.warmRunnerFaults, 50), 0)}); ` +
      `CPU per run ${fmt(warmContainerCpuMsPerRun, 2)} ms in the container, ${fmt(warmHostCpuMsPerRun, 2)} ms in this process`,
  );
  endPhase('warm');

  // --- the command line end to end against the docker CLI (the raw container serves docker exec).
  log('cli: `loom exec` processes (warm parked container) against `docker exec` and `docker run --rm`');
  const cliName = `bench-cli-${randomBytes(4).toString('hex')}`;
  const removeCliContainers = once(async () => void (await removeByLabel(docker, `${LABEL.configName}=${cliName}`)));
  cleanups.push(removeCliContainers);
  // A Loom host process for the hand-off figure: this process, serving its warm executor.
  const handoffHome = mkdtempSync(join(tmpdir(), 'loom-bench-home-'));
  const handoffHost = await startHandoffHost({ dir: join(handoffHome, 'run'), executor: () => Promise.resolve(executor) });
  const cliFigures: CliFigures = await measureCliFigures(
    {
      root: ROOT,
      execContainer: rawContainer.id,
      image: 'python:3.11-slim',
      label: `${LABEL.ownerInstance}=${rawOwner.instance}`,
      configName: cliName,
      n: Math.max(5, Math.ceil(opts.nWarm / 5)),
      handoffHome,
    },
    log,
  ).catch((err: unknown) => {
    log(`cli: not measured (${err instanceof Error ? err.message : String(err)})`);
    return { cliWarmWallMs: Number.NaN, cliHandoffWallMs: Number.NaN, cliNativeHandoffWallMs: Number.NaN, dockerExecCliMs: Number.NaN, dockerRunCliMs: Number.NaN, loomHelpMs: Number.NaN, nodeE0Ms: Number.NaN, nodeE0WithoutExtraCaMs: Number.NaN, wrong: 0 };
  });
  await handoffHost?.close();
  rmSync(handoffHome, { recursive: true, force: true });
  await removeCliContainers();
  if (cliFigures.wrong) problems.wrongOutput.push(`cli: ${cliFigures.wrong} loom exec run(s) with the wrong output`);
  log(
    `cli: loom exec ${fmt(cliFigures.cliWarmWallMs)} ms alone, ${fmt(cliFigures.cliHandoffWallMs)} ms handed off, ${fmt(cliFigures.cliNativeHandoffWallMs)} ms by the native client, docker exec ${fmt(cliFigures.dockerExecCliMs)} ms, docker run --rm ${fmt(cliFigures.dockerRunCliMs)} ms; ` +
      `loom --help ${fmt(cliFigures.loomHelpMs)} ms, node -e 0 ${fmt(cliFigures.nodeE0Ms)} ms`,
  );
  // The raw container is no longer needed; removing it now keeps the remaining figures fair.
  await removeContainer(docker, rawContainer.id);
  rawCreated.delete(rawName);
  endPhase('cli');

  // --- warm node.
  log('warm node: warm-up');
  const warmNodeWait = await warmUpToRunner(executor, nodeWarmRequest, 'warm node', problems);
  const runNode = async (i: number, into: number[], faultsInto: number[] | null): Promise<void> => {
    const r = await loomRun(executor, nodeWarmRequest);
    check(problems, `warm node #${i}`, r);
    if (r.response.containerCreated) problems.warmButCreated++;
    if (r.via !== 'runner') problems.warmNodeViaExec++;
    into.push(r.ms);
    const faults = runFaults(r.response);
    if (faults) faultsInto?.push(faults.program + faults.runner);
  };
  for (let i = 0; i < opts.nWarm; i++) {
    await sleep(NODE_PACE_MS);
    await runNode(i, samples.warmNode, samples.warmNodeFaults);
  }
  for (let i = 0; i < Math.ceil(opts.nWarm / 2); i++) await runNode(i, samples.warmNodeBackToBack, null);
  log(
    `warm node: p50 ${fmt(percentile(samples.warmNode, 50))} ms ${NODE_PACE_MS} ms apart (page faults p50 ${fmt(percentile(samples.warmNodeFaults, 50), 0)}), ` +
      `${fmt(percentile(samples.warmNodeBackToBack, 50))} ms back to back ` +
      `(warm-up ${warmNodeWait.runs} runs; ${problems.warmNodeViaExec} timed runs by exec)`,
  );
  endPhase('warmNode');

  // --- throughput: 4 pre-warmed containers with their runners up, 8 workers; the raw baseline
  // is the same with 4 raw containers handed out one run at a time (as Loom's pool does).
  // Blocks of half the runs in the order raw, Loom, Loom, raw, so that drifting background
  // load hits both alike.
  log(`throughput: prewarming ${opts.containers} Loom and ${opts.containers} raw containers`);
  await executor.prewarm(pyWarmRequest, opts.containers);
  const throughputWait = await warmPoolToRunner(executor, pyWarmRequest, opts.concurrency, opts.containers, RUNNER_WAIT_MS, (response) =>
    check(problems, 'throughput warm-up', { exitCode: response.exitCode, stdout: Buffer.from(response.stdout).toString('utf8') }),
  );
  if (!throughputWait.ready) log(`throughput: not every runner is up after ${throughputWait.runs} runs; measuring anyway (runs by exec are counted)`);
  const rawPool: Docker.Container[] = [];
  for (let i = 0; i < opts.containers; i++) {
    const name = `loom-bench-rawtp-${i}-${randomBytes(4).toString('hex')}`;
    rawCreated.add(name);
    const c = await docker.createContainer({ ...sandboxOptions, name });
    await c.start();
    check(problems, 'raw throughput warm-up', await rawExec(docker, c, PY_HELLO));
    rawPool.push(c);
  }
  const freeRaw = [...rawPool];
  const rawWaiters: ((c: Docker.Container) => void)[] = [];
  const takeRaw = (): Promise<Docker.Container> => {
    const c = freeRaw.pop();
    return c ? Promise.resolve(c) : new Promise((resolve) => rawWaiters.push(resolve));
  };
  const giveRaw = (c: Docker.Container): void => {
    const waiter = rawWaiters.shift();
    if (waiter) waiter(c);
    else freeRaw.push(c);
  };
  const throughputContainerIds = new Set<string>();
  const runOnce = {
    raw: async (): Promise<void> => {
      const t0 = performance.now(); // includes waiting for a free container, as Loom's does
      const c = await takeRaw();
      try {
        check(problems, 'raw throughput', await rawExec(docker, c, PY_HELLO));
      } finally {
        giveRaw(c);
      }
      samples.rawThroughputLatency.push(performance.now() - t0);
    },
    loom: async (): Promise<void> => {
      const r = await loomRun(executor, pyWarmRequest);
      check(problems, 'throughput', r);
      if (r.response.containerCreated) problems.throughputCreated++;
      if (r.via !== 'runner') problems.throughputViaExec++;
      throughputContainerIds.add(r.response.containerId);
      samples.throughputLatency.push(r.ms);
    },
  };
  const block = async (kind: 'raw' | 'loom', count: number): Promise<number> => {
    let started = 0;
    const worker = async (): Promise<void> => {
      while (started < count) {
        started++;
        await runOnce[kind]();
      }
    };
    const m0 = machineCpuMs();
    const f0 = machinePageFaults();
    const h0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(Array.from({ length: opts.concurrency }, worker));
    const ms = performance.now() - t0;
    const h1 = process.cpuUsage(h0);
    blockCpu[kind].hostMs += (h1.user + h1.system) / 1000;
    const f1 = machinePageFaults();
    blockCpu[kind].faults += f0 !== null && f1 !== null ? f1 - f0 : Number.NaN;
    const m1 = machineCpuMs();
    if (m0 && m1) {
      blockCpu[kind].busyMs += m1.busyMs - m0.busyMs;
      blockCpu[kind].totalMs += m1.totalMs - m0.totalMs;
    } else blockCpu[kind].busyMs = Number.NaN;
    return ms;
  };
  // The whole machine's CPU over each side's blocks (all processes: this one, the engine, the
  // containers), and this process's part of it (the host's: Loom's engine client, or dockerode).
  // The machine's page faults over them too: the cause of much of that CPU on a VM.
  const blockCpu = { raw: { busyMs: 0, totalMs: 0, hostMs: 0, faults: 0 }, loom: { busyMs: 0, totalMs: 0, hostMs: 0, faults: 0 } };
  // Loom's blocks last ~1.5 s each (a 0.3 s block measured the ramp as much as the rate); the
  // raw side, ten times slower, runs a fifth as many.
  const totals = { loom: opts.throughputTotal, raw: rawThroughputTotal(opts.throughputTotal) };
  const half = (kind: 'raw' | 'loom'): [number, number] => [Math.ceil(totals[kind] / 2), Math.floor(totals[kind] / 2)];
  const wall = { raw: 0, loom: 0 };
  // Between blocks, an untimed pause: the engine is still tearing down the last block's execs
  // (runc, containerd) for a while after their streams end, and the next block must not pay for
  // them (as in the warm blocks).
  const settle = (): Promise<void> => sleep(BLOCK_SETTLE_MS);
  wall.raw += await block('raw', half('raw')[0]);
  await settle();
  wall.loom += await block('loom', half('loom')[0]);
  await settle();
  wall.loom += await block('loom', half('loom')[1]);
  await settle();
  wall.raw += await block('raw', half('raw')[1]);
  const throughputWallMs = wall.loom;
  const throughputPerS = (totals.loom / wall.loom) * 1000;
  const rawThroughputPerS = (totals.raw / wall.raw) * 1000;
  const throughputMachineCpuMsPerRun = blockCpu.loom.busyMs / totals.loom;
  const throughputHostCpuMsPerRun = blockCpu.loom.hostMs / totals.loom;
  const rawThroughputMachineCpuMsPerRun = blockCpu.raw.busyMs / totals.raw;
  const throughputMachineBusyPct = (blockCpu.loom.busyMs / blockCpu.loom.totalMs) * 100;
  const throughputFaultsPerRun = blockCpu.loom.faults / totals.loom;
  const rawThroughputFaultsPerRun = blockCpu.raw.faults / totals.raw;
  log(
    `throughput: raw ${fmt(rawThroughputPerS)}/s, loom ${fmt(throughputPerS)}/s (${problems.throughputViaExec} runs by exec); ` +
      `the machine's CPU per run ${fmt(throughputMachineCpuMsPerRun, 2)} ms (raw ${fmt(rawThroughputMachineCpuMsPerRun, 1)} ms; this process's ${fmt(throughputHostCpuMsPerRun, 2)} ms), its CPUs ${fmt(throughputMachineBusyPct, 0)}% busy during Loom's blocks; ` +
      `its page faults per run ${fmt(throughputFaultsPerRun, 0)} (raw ${fmt(rawThroughputFaultsPerRun, 0)})`,
  );
  for (const c of rawPool) await removeContainer(docker, c.id);
  for (const name of [...rawCreated]) if (name.startsWith('loom-bench-rawtp-')) rawCreated.delete(name);
  // The main executor's work is done: its containers would only blur the next two figures.
  const rssAfterFiguresMb = process.memoryUsage().rss / MB;
  const mainPooled = executor.containers().length;
  await closeMain();
  endPhase('throughput');

  // --- the clean slate between runs: the same warm runner with and without it.
  log('clean slate: a warm runner that cleans after every run, and one that keeps state (a session\'s)');
  const cleanInstance = `bench-clean-${randomUUID()}`;
  cleanups.push(async () => void (await sweep(docker, [cleanInstance])));
  const cleanSlate = await measureCleanSlate(docker, opts.nWarm, cleanInstance);
  if (cleanSlate.wrong) problems.wrongOutput.push(`clean slate: ${cleanSlate.wrong} run(s) with the wrong output`);
  endPhase('cleanSlate');

  // --- sessions: a cell in a warm session, creating one, an idle one's memory.
  log('sessions: cells `x + 1` in a warm session, session creation, idle memory');
  const sessions = await measureSessions(docker, opts.nWarm, Math.min(opts.nCold, 5), onError);
  if (sessions.wrong) problems.wrongOutput.push(`sessions: ${sessions.wrong} cell(s) with the wrong output`);
  endPhase('sessions');
  // --- the language runtimes (issue 16): bash and ruby warm, go and rust compiled then cached.
  log('languages: warm bash and ruby hellos, go and rust first runs (compile) and cached reruns, python alongside');
  const langs = await measureLanguages(docker, opts.nWarm, onError);
  if (langs.missingImages.length) log(`languages: not measured, images missing (npm run images -- languages): ${langs.missingImages.join(', ')}`);
  if (langs.wrong) problems.wrongOutput.push(`languages: ${langs.wrong} run(s) with the wrong output, by exec, or compiled when cached`);
  endPhase('languages');
  // --- gVisor next to runc, cold and warm, interleaved (bench/gvisor.ts).
  log('gvisor: cold and warm p50 under gVisor (runsc) next to runc');
  const gvisor = await measureGvisor(docker, opts.nWarm, opts.nCold, log, onError);
  if (gvisor.wrong) problems.wrongOutput.push(`gvisor: ${gvisor.wrong} run(s) with the wrong output, or warm runs that were not`);
  endPhase('gvisor');

  // --- a second `loom exec` process with the same config reuses the container the first parked.
  log('second process: two `loom exec --json --keep-warm 120` processes in a row');
  const cli = await measureSecondProcess(docker, problems);
  endPhase('secondProcess');

  // --- MCP (issue 15): execute_code hello through `loom mcp` stdio; 50 concurrent HTTP sessions.
  const mcpStdio = await measureMcpStdio(opts.nWarm).catch((err: unknown) => {
    log(`mcp stdio: failed: ${String(err)}`);
    return { samples: [] as number[], wrong: -1 };
  });
  const mcpHttp = await measureMcpHttp(docker, MCP_HTTP_SESSIONS).catch((err: unknown) => {
    log(`mcp http: failed: ${String(err)}`);
    return { sessions: MCP_HTTP_SESSIONS, matched: 0, wallMs: Number.NaN, containersLeft: -1 };
  });
  log(
    `mcp: stdio execute_code hello p50 ${fmt(percentile(mcpStdio.samples, 50))} ms (${mcpStdio.wrong} wrong); ` +
      `http ${mcpHttp.matched}/${mcpHttp.sessions} sessions matched in ${fmt(mcpHttp.wallMs)} ms, ${mcpHttp.containersLeft} container(s) left`,
  );
  endPhase('mcp');

  // --- 200 MB of output through `loom exec` and in the window (bench/ui-flood.ts).
  log('flood: a program printing 200 MB, through loom exec and in the window (Chromium)');
  const floodName = `bench-flood-${randomBytes(4).toString('hex')}`;
  const removeFloodContainers = once(async () => void (await removeByLabel(docker, `${LABEL.configName}=${floodName}`)));
  cleanups.push(removeFloodContainers);
  const flood = await measureFlood(200, floodName, log);
  await removeFloodContainers();
  endPhase('flood');

  // --- RSS with 16 pooled containers: 4 configs (differing by name) x 4, each container used.
  log(`rss: ${RSS_CONFIGS} configs x ${RSS_PER_CONFIG} containers pooled in a process of their own (bench/pooled-rss.ts)`);
  const rssBeforePoolMb = process.memoryUsage().rss / MB;
  const pooledMem = await measurePooledRss(log);
  problems.wrongOutput.push(...pooledMem.wrong);
  log(`rss: ${fmt(pooledMem.rssMb)} MB with ${pooledMem.pooled} pooled container(s) (that process before any executor ${fmt(pooledMem.baselineRssMb)} MB)`);
  endPhase('rss');

  // --- the trace workbench: OTLP ingest and the first paint of a 100,000-span trace (bench/traces-bench.ts).
  log('traces: receiver ingest (json, protobuf) and first paint of a 100,000-span trace in Chromium');
  const traces = await benchTraces();
  endPhase('traces');

  // --- report.
  const s = {
    rawExec: summarize(samples.rawExec),
    warm: summarize(samples.warm),
    warmNode: summarize(samples.warmNode),
    warmNodeBackToBack: summarize(samples.warmNodeBackToBack),
    rawCold: summarize(samples.rawCold),
    cold: summarize(samples.cold),
    coldContainerMs: summarize(samples.coldContainerMs),
    packagesCold: summarize(samples.packagesCold),
    packagesColdContainerMs: summarize(samples.packagesColdContainerMs),
    throughputLatency: summarize(samples.throughputLatency),
    mcpStdio: summarize(mcpStdio.samples),
    rawThroughputLatency: summarize(samples.rawThroughputLatency),
  };
  const throughputVsRawRatio = ratio(throughputPerS, rawThroughputPerS);
  const warmVsRawExecRatio = ratio(s.warm.p50, s.rawExec.p50);
  const coldVsRawColdRatio = ratio(s.cold.p50, s.rawCold.p50);
  const packagesCachedVsColdRatio = ratio(s.packagesCold.p50, s.cold.p50);
  const secondVsFirstProcessRatio = ratio(cli.secondWallMs, cli.firstWallMs);
  const rssMb = pooledMem.rssMb;
  const rssBaselineMb = pooledMem.baselineRssMb;
  const loadAtEnd = loadavg();
  const elapsedS = (performance.now() - startedAt) / 1000;
  const targets = evaluateTargets({
    warmP50Ms: s.warm.p50,
    warmP99Ms: s.warm.p99,
    rawExecP50Ms: s.rawExec.p50,
    warmNodeP50Ms: s.warmNode.p50,
    coldP50Ms: s.cold.p50,
    rawColdP50Ms: s.rawCold.p50,
    secondProcessContainerCreated: cli.second?.response ? cli.second.response.containerCreated : null,
    throughputPerS,
    packagesInstallViolations: problems.packagesInstalled,
    packagesCachedRuns,
    packagesCachedColdP50Ms: s.packagesCold.p50,
    rssMb,
    rssPooledContainers: pooledMem.pooled,
    cleanSlateHelloP50Ms: cleanSlate.hello.p50,
    keepStateHelloP50Ms: cleanSlate.helloKeepState.p50,
    cleanSlate1000FilesP50Ms: cleanSlate.files1000.p50,
    keepState1000FilesP50Ms: cleanSlate.files1000KeepState.p50,
    mcpStdioHelloP50Ms: s.mcpStdio.p50,
    mcpHttpSessions: mcpHttp.sessions,
    mcpHttpMatched: mcpHttp.matched,
    mcpHttpContainersLeft: mcpHttp.containersLeft,
    throughputVsRaw: throughputVsRawRatio,
    warmFaultsPerRun: percentile(samples.warmFaults, 50),
    warmNodeFaultsPerRun: percentile(samples.warmNodeFaults, 50),
    cliWarmWallMs: cliFigures.cliWarmWallMs,
    cliNativeHandoffWallMs: cliFigures.cliNativeHandoffWallMs,
    dockerExecCliMs: cliFigures.dockerExecCliMs,
    loomHelpMs: cliFigures.loomHelpMs,
    nodeE0Ms: cliFigures.nodeE0Ms,
    uiFlood200MbMs: flood.uiFlood200MbMs,
    cliFlood200MbMs: flood.cliFlood200MbMs,
    uiWorstStallMs: flood.uiWorstStallMs,
    languagesPythonWarmP50Ms: langs.pythonWarm.p50,
    goCachedP50Ms: langs.goCached.p50,
    rustCachedP50Ms: langs.rustCached.p50,
  });
  const targetsMet = targets.filter((t) => t.met === true).length;
  const busy = loadAtStart[0]! > cpus().length / 2 || loadAtEnd[0]! > cpus().length / 2;

  if (opts.json) {
    const fig = (x: Summary): Record<string, number | null> => ({ n: x.n, p50: round(x.p50), p99: round(x.p99), mean: round(x.mean), min: round(x.min), max: round(x.max) });
    const cliJson = (r: CliRun): Record<string, unknown> => ({
      jsonMs: round(r.jsonMs),
      parkedMs: round(r.doneMs),
      exitMs: round(r.exitMs),
      exitedByItself: r.exitedByItself,
      parked: r.parked,
      exitCode: r.code,
      containerId: r.response?.containerId ?? null,
      containerCreated: r.response?.containerCreated ?? null,
      durationMs: r.response ? round(r.response.durationMs) : null,
    });
    const result = {
      pageFaultUs: round(machine.pageFaultUs, 3),
      forkExitMs: round(machine.forkExitMs, 3),
      nodeE0Ms: round(cliFigures.nodeE0Ms),
      nodeE0WithoutExtraCaMs: round(cliFigures.nodeE0WithoutExtraCaMs),
      loomHelpMs: round(cliFigures.loomHelpMs),
      warmFaultsPerRun: round(percentile(samples.warmFaults, 50), 0),
      warmRunnerFaultsPerRun: round(percentile(samples.warmRunnerFaults, 50), 0),
      warmNodeFaultsPerRun: round(percentile(samples.warmNodeFaults, 50), 0),
      warmContainerCpuMsPerRun: round(warmContainerCpuMsPerRun, 3),
      warmHostCpuMsPerRun: round(warmHostCpuMsPerRun, 3),
      cliWarmWallMs: round(cliFigures.cliWarmWallMs),
      cliHandoffWallMs: round(cliFigures.cliHandoffWallMs),
      cliNativeHandoffWallMs: round(cliFigures.cliNativeHandoffWallMs),
      dockerExecCliMs: round(cliFigures.dockerExecCliMs),
      dockerRunCliMs: round(cliFigures.dockerRunCliMs),
      uiFlood200MbMs: round(flood.uiFlood200MbMs),
      cliFlood200MbMs: round(flood.cliFlood200MbMs),
      uiWorstStallMs: round(flood.uiWorstStallMs),
      warmP50Ms: round(s.warm.p50),
      warmP99Ms: round(s.warm.p99),
      rawExecP50Ms: round(s.rawExec.p50),
      rawExecP99Ms: round(s.rawExec.p99),
      warmNodeP50Ms: round(s.warmNode.p50),
      warmNodeP99Ms: round(s.warmNode.p99),
      warmNodePaceMs: NODE_PACE_MS,
      warmNodeBackToBackP50Ms: round(s.warmNodeBackToBack.p50),
      warmNodeBackToBackP99Ms: round(s.warmNodeBackToBack.p99),
      coldP50Ms: round(s.cold.p50),
      coldP99Ms: round(s.cold.p99),
      coldContainerMsP50: round(s.coldContainerMs.p50),
      rawColdP50Ms: round(s.rawCold.p50),
      rawColdP99Ms: round(s.rawCold.p99),
      packagesCachedColdP50Ms: round(s.packagesCold.p50),
      packagesCachedColdP99Ms: round(s.packagesCold.p99),
      packagesCachedVsColdRatio: round(packagesCachedVsColdRatio, 4),
      packagesFirstInstallMs: round(firstInstall.ms),
      packagesFirstInstallPackagesMs: round(firstInstall.response.timings?.packagesMs ?? Number.NaN),
      packagesFirstInstallSawInstall: firstInstallSawInstall,
      packagesInstallViolations: problems.packagesInstalled,
      packagesCachedRuns,
      packagesCacheImage: cacheImage?.tag ?? null,
      packagesCacheImageMissingBeforeRun: packagesCacheImageMissing,
      throughputPerS: round(throughputPerS),
      rawThroughputPerS: round(rawThroughputPerS),
      // The whole machine's CPU per run during each side's blocks (null where /proc/stat is not the engine's machine).
      throughputMachineCpuMsPerRun: round(throughputMachineCpuMsPerRun),
      rawThroughputMachineCpuMsPerRun: round(rawThroughputMachineCpuMsPerRun),
      throughputFaultsPerRun: round(throughputFaultsPerRun),
      rawThroughputFaultsPerRun: round(rawThroughputFaultsPerRun),
      throughputMachineBusyPct: round(throughputMachineBusyPct, 1),
      // This process's CPU per Loom run during those blocks (the host side: the engine client).
      throughputHostCpuMsPerRun: round(throughputHostCpuMsPerRun),
      throughputVsRawRatio: round(throughputVsRawRatio, 4),
      throughputLatencyP50Ms: round(s.throughputLatency.p50),
      throughputLatencyP99Ms: round(s.throughputLatency.p99),
      throughputViaExecCount: problems.throughputViaExec,
      throughputRunnersReady: throughputWait.ready,
      throughputWarmupRuns: throughputWait.runs,
      throughputDistinctContainers: throughputContainerIds.size,
      warmVsRawExecRatio: round(warmVsRawExecRatio, 4),
      coldVsRawColdRatio: round(coldVsRawColdRatio, 4),
      warmViaExecCount: problems.warmViaExec,
      warmNodeViaExecCount: problems.warmNodeViaExec,
      warmWarmupRuns: warmWait.runs,
      warmNodeWarmupRuns: warmNodeWait.runs,
      warmRunnerReady: warmWait.ready,
      warmNodeRunnerReady: warmNodeWait.ready,
      secondProcessReused: cli.second?.response?.containerCreated === false,
      secondProcessSameContainer: cli.sameContainer,
      firstProcessContainerCreated: cli.first.response?.containerCreated ?? null,
      secondProcessContainerCreated: cli.second?.response?.containerCreated ?? null,
      firstProcessWallMs: round(cli.firstWallMs),
      secondProcessWallMs: round(cli.secondWallMs),
      processWallBasis: cli.basis,
      processesExitedByThemselves: [cli.first, cli.second].filter((r) => r?.exitedByItself).length,
      secondVsFirstProcessRatio: round(secondVsFirstProcessRatio, 4),
      secondProcess: { first: cliJson(cli.first), second: cli.second ? cliJson(cli.second) : null, removedAfterwards: cli.removed },
      mcpStdioHelloP50Ms: round(s.mcpStdio.p50),
      mcpStdioHelloP99Ms: round(s.mcpStdio.p99),
      mcpStdioVsWarmRatio: round(ratio(s.mcpStdio.p50, s.warm.p50), 4),
      mcpStdioWrongOutputs: mcpStdio.wrong,
      mcpHttpSessions: mcpHttp.sessions,
      mcpHttpMatched: mcpHttp.matched,
      mcpHttpWallMs: round(mcpHttp.wallMs),
      mcpHttpContainersLeft: mcpHttp.containersLeft,
      cleanSlateHelloP50Ms: round(cleanSlate.hello.p50),
      keepStateHelloP50Ms: round(cleanSlate.helloKeepState.p50),
      cleanSlateHelloDeltaMs: round(cleanSlate.hello.p50 - cleanSlate.helloKeepState.p50),
      cleanSlate1000FilesP50Ms: round(cleanSlate.files1000.p50),
      keepState1000FilesP50Ms: round(cleanSlate.files1000KeepState.p50),
      cleanSlate1000FilesDeltaMs: round(cleanSlate.files1000.p50 - cleanSlate.files1000KeepState.p50),
      sessionCellP50Ms: round(sessions.cell.p50),
      sessionCellVsWarmRatio: round(ratio(sessions.cell.p50, s.warm.p50)),
      sessionCreateP50Ms: round(sessions.create.p50),
      sessionCreateVsColdRatio: round(ratio(sessions.create.p50, s.cold.p50)),
      sessionIdleMemoryMb: round(sessions.idleMemoryMb, 1),
      languagesPythonWarmP50Ms: round(langs.pythonWarm.p50),
      bashWarmP50Ms: round(langs.bashWarm.p50),
      rubyWarmP50Ms: round(langs.rubyWarm.p50),
      goFirstRunP50Ms: round(langs.goFirst.p50),
      goCachedP50Ms: round(langs.goCached.p50),
      goCachedVsPythonWarmRatio: round(ratio(langs.goCached.p50, langs.pythonWarm.p50), 4),
      rustFirstRunP50Ms: round(langs.rustFirst.p50),
      rustCachedP50Ms: round(langs.rustCached.p50),
      rustCachedVsPythonWarmRatio: round(ratio(langs.rustCached.p50, langs.pythonWarm.p50), 4),
      languagesMissingImages: langs.missingImages,
      gvisorAvailable: gvisor.available,
      gvisorColdP50Ms: round(gvisor.gvisorCold.p50),
      runcColdP50Ms: round(gvisor.runcCold.p50),
      gvisorColdVsRunc: round(gvisor.coldRatio, 3),
      gvisorWarmP50Ms: round(gvisor.gvisorWarm.p50),
      runcWarmP50Ms: round(gvisor.runcWarm.p50),
      gvisorWarmVsRunc: round(gvisor.warmRatio, 3),
      // At an idle container (bench/gvisor.ts): the figure the target is read on; the three above are back to back.
      gvisorIdleWarmP50Ms: round(gvisor.gvisorIdleWarm.p50),
      runcIdleWarmP50Ms: round(gvisor.runcIdleWarm.p50),
      gvisorIdleWarmVsRunc: round(gvisor.idleWarmRatio, 3),
      gvisorIdlePaceMs: IDLE_PACE_MS,
      gvisorWarmTarget: GVISOR_WARM_TARGET,
      gvisorWarmMet: Number.isFinite(gvisor.idleWarmRatio) ? gvisor.idleWarmRatio <= GVISOR_WARM_TARGET : null,
      rssMb: round(rssMb, 1),
      rssPooledContainers: pooledMem.pooled,
      rssRunnersReadyConfigs: pooledMem.configsWithRunners,
      heapUsedMb: round(pooledMem.heapUsedMb, 1),
      rssBaselineMb: round(rssBaselineMb, 1),
      heapUsedBaselineMb: round(pooledMem.baselineHeapUsedMb, 1),
      benchRssAtStartMb: round(memBaseline.rss / MB, 1),
      rssBeforePoolMb: round(rssBeforePoolMb, 1),
      rssAfterFiguresMb: round(rssAfterFiguresMb, 1),
      pooledContainersAfterFigures: mainPooled,
      targets: Object.fromEntries(targets.map((t) => [t.id, { measured: t.measured, target: t.target, met: t.met }])),
      targetsMet,
      targetsTotal: targets.length,
      nWarm: opts.nWarm,
      nCold: opts.nCold,
      throughputTotal: opts.throughputTotal,
      throughputConcurrency: opts.concurrency,
      throughputContainers: opts.containers,
      warmButCreated: problems.warmButCreated,
      coldButReused: problems.coldButReused,
      throughputCreated: problems.throughputCreated,
      wrongOutput: problems.wrongOutput.length,
      warmDistinctContainers: warmContainerIds.size,
      engineVersion: version.Version,
      cpus: cpus().length,
      loadAverageStart: loadAtStart.map((x) => round(x)),
      loadAverageEnd: loadAtEnd.map((x) => round(x)),
      noisy: busy,
      phaseS: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, round(v, 1)])),
      elapsedS: round(elapsedS, 1),
      figures: {
        rawExec: fig(s.rawExec),
        warm: fig(s.warm),
        warmNode: fig(s.warmNode),
        warmNodeBackToBack: fig(s.warmNodeBackToBack),
        rawCold: fig(s.rawCold),
        cold: fig(s.cold),
        coldContainerMs: fig(s.coldContainerMs),
        packagesCold: fig(s.packagesCold),
        packagesColdContainerMs: fig(s.packagesColdContainerMs),
        throughputLatency: fig(s.throughputLatency),
        rawThroughputLatency: fig(s.rawThroughputLatency),
        cleanSlateHello: fig(cleanSlate.hello),
        keepStateHello: fig(cleanSlate.helloKeepState),
        cleanSlate1000Files: fig(cleanSlate.files1000),
        keepState1000Files: fig(cleanSlate.files1000KeepState),
        sessionCell: fig(sessions.cell),
        sessionCreate: fig(sessions.create),
        languagesPythonWarm: fig(langs.pythonWarm),
        bashWarm: fig(langs.bashWarm),
        rubyWarm: fig(langs.rubyWarm),
        goFirstRun: fig(langs.goFirst),
        goCached: fig(langs.goCached),
        rustFirstRun: fig(langs.rustFirst),
        rustCached: fig(langs.rustCached),
        gvisorCold: fig(gvisor.gvisorCold),
        runcCold: fig(gvisor.runcCold),
        gvisorWarm: fig(gvisor.gvisorWarm),
        runcWarm: fig(gvisor.runcWarm),
        gvisorIdleWarm: fig(gvisor.gvisorIdleWarm),
        runcIdleWarm: fig(gvisor.runcIdleWarm),
      },
      traces,
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    const row = (name: string, x: Summary): string[] => [name, fmt(x.p50), fmt(x.p99), fmt(x.mean), fmt(x.min), fmt(x.max), String(x.n)];
    const figures = formatTable(
      ['figure (ms)', 'p50', 'p99', 'mean', 'min', 'max', 'n'],
      [
        row('rawExec    dockerode exec, python hello', s.rawExec),
        row('warm       Loom, python hello (runner)', s.warm),
        row(`warm node  Loom, node hello (runner), ${NODE_PACE_MS} ms apart`, s.warmNode),
        row('  back to back (waits for node start-up)', s.warmNodeBackToBack),
        row('rawCold    dockerode create+start+wait', s.rawCold),
        row('cold       Loom, maxExecutions 1', s.cold),
        row('  cold timings.containerMs', s.coldContainerMs),
        row('cold + 2 cached packages', s.packagesCold),
        row('  its timings.containerMs', s.packagesColdContainerMs),
        row(`raw throughput latency (${opts.concurrency} workers)`, s.rawThroughputLatency),
        row(`Loom throughput latency (${opts.concurrency} workers)`, s.throughputLatency),
        row('clean slate: runner hello, cleaned after each run', cleanSlate.hello),
        row('  the same, keep-state runner (never cleaned)', cleanSlate.helloKeepState),
        row('clean slate: program leaving 1,000 files', cleanSlate.files1000),
        row('  the same, keep-state runner', cleanSlate.files1000KeepState),
        row('session cell `x + 1`, warm session (kernel)', sessions.cell),
        row('session creation (container + interpreter)', sessions.create),
        row('languages: python hello, same rounds', langs.pythonWarm),
        row('  bash hello (source, runner)', langs.bashWarm),
        row('  ruby hello', langs.rubyWarm),
        row('  go hello, new source (compile + run)', langs.goFirst),
        row('  go hello, cached build', langs.goCached),
        row('  rust hello, new source (compile + run)', langs.rustFirst),
        row('  rust hello, cached build', langs.rustCached),
        row('gVisor cold, maxExecutions 1', gvisor.gvisorCold),
        row('  runc cold, interleaved with it', gvisor.runcCold),
        row(`gVisor warm, python hello (runner), ${IDLE_PACE_MS} ms apart`, gvisor.gvisorIdleWarm),
        row('  runc warm, interleaved with it', gvisor.runcIdleWarm),
        row('gVisor warm, back to back (waits for its spare)', gvisor.gvisorWarm),
        row('  runc warm, interleaved with it', gvisor.runcWarm),
      ],
    );
    const targetTable = formatTable(
      ['target (issues 5, 12, 16, 18)', 'measured', 'target', ''],
      targets.map((t) => [t.figure, t.measured, t.target, verdict(t.met)]),
    );
    const cliLine = (r: CliRun, wallMs: number): string =>
      (r.response ? `${fmt(wallMs)} ms, containerCreated ${String(r.response.containerCreated)}` : `${fmt(wallMs)} ms, no JSON (exit ${r.code ?? r.signal})`) +
      (r.exitedByItself ? '' : ', did not exit by itself');
    const lines = [
      '',
      `Loom bench — engine ${version.Version}, ${elapsedS.toFixed(0)} s; p50/p99 are nearest-rank, times are the caller's wall clock`,
      `load average ${loadText(loadAtStart)} at the start, ${loadText(loadAtEnd)} at the end (1/5/15 min) on ${cpus().length} CPUs` +
        (busy ? ': a shared, busy machine, so medians are noisy; the ratios (both sides measured interleaved) are the steadier figures' : ''),
      `machine                  a page fault ${fmt(machine.pageFaultUs, 2)} us, fork + exit ${fmt(machine.forkExitMs, 2)} ms (in a container); node -e 0 ${fmt(cliFigures.nodeE0Ms)} ms${Number.isNaN(cliFigures.nodeE0WithoutExtraCaMs) ? '' : ` (${fmt(cliFigures.nodeE0WithoutExtraCaMs)} ms without the NODE_EXTRA_CA_CERTS this environment sets)`}`,
      `page faults, RUN to EXIT python hello p50 ${fmt(percentile(samples.warmFaults, 50), 0)} (the runner's own ${fmt(percentile(samples.warmRunnerFaults, 50), 0)}), ` +
        `node hello at an idle container p50 ${fmt(percentile(samples.warmNodeFaults, 50), 0)}`,
      `CPU per warm python run  ${fmt(warmContainerCpuMsPerRun, 2)} ms in the container (all of it: runner, spare, clean-up), ${fmt(warmHostCpuMsPerRun, 2)} ms in this process`,
      `command line             loom exec (warm parked container) ${fmt(cliFigures.cliWarmWallMs)} ms alone, ${fmt(cliFigures.cliHandoffWallMs)} ms handed to a host (${fmt(cliFigures.cliNativeHandoffWallMs)} ms by bin/loom's native client), docker exec ${fmt(cliFigures.dockerExecCliMs)} ms, ` +
        `docker run --rm ${fmt(cliFigures.dockerRunCliMs)} ms; loom --help ${fmt(cliFigures.loomHelpMs)} ms`,
      `output flood (200 MB)    window ${fmt(flood.uiFlood200MbMs)} ms, loom exec ${fmt(flood.cliFlood200MbMs)} ms, longest main-thread task ${fmt(flood.uiWorstStallMs)} ms` +
        (flood.note ? ` (${flood.note})` : ''),
      '',
      figures,
      '',
      targetTable,
      '',
      `targets met: ${targetsMet} of ${targets.length} (the bench reports; it does not fail on a missed target)`,
      '',
      `warm p50 / rawExec p50   ${ratioText(warmVsRawExecRatio, TARGETS.warmVsRawExec)}x   (${fmt(s.warm.p50 - s.rawExec.p50)} ms over raw); timed runs by exec: python ${problems.warmViaExec}, node ${problems.warmNodeViaExec} ` +
        `(warm-ups until the runner was up: ${warmWait.runs} and ${warmNodeWait.runs} runs)`,
      `cold p50 / rawCold p50   ${ratioText(coldVsRawColdRatio, TARGETS.coldVsRawCold)}x   (${fmt(s.cold.p50 - s.rawCold.p50)} ms over raw; raw removal untimed)`,
      `packages                 first install ${fmt(firstInstall.ms)} ms (builds the cache image); cached cold p50 ${fmt(s.packagesCold.p50)} ms = ` +
        `${ratioText(packagesCachedVsColdRatio, TARGETS.packagesCachedVsCold)}x cold; ${problems.packagesInstalled} of ${packagesCachedRuns} cached runs showed an install step; ` +
        `cache image ${cacheImage?.tag ?? '-'} (removed at exit)` +
        (packagesCacheImageMissing ? `; the cache image was gone before ${packagesCacheImageMissing} run(s) (removed from outside)` : ''),
      `throughput               ${fmt(throughputPerS)} executions/s vs raw ${fmt(rawThroughputPerS)}/s = ${fmt(throughputVsRawRatio, 2)}x  ` +
        `(${totals.loom} Loom runs, ${totals.raw} raw, ${opts.concurrency} workers, ${opts.containers} pre-warmed containers, Loom ${(throughputWallMs / 1000).toFixed(1)} s; ` +
        `${problems.throughputViaExec} runs by exec, runners up after ${throughputWait.runs} warm-up runs; the machine's CPU per run ` +
        `${fmt(throughputMachineCpuMsPerRun, 2)} ms vs raw ${fmt(rawThroughputMachineCpuMsPerRun, 1)} ms, its CPUs ${fmt(throughputMachineBusyPct, 0)}% busy; ` +
        `its page faults per run ${fmt(throughputFaultsPerRun, 0)} vs raw ${fmt(rawThroughputFaultsPerRun, 0)})`,
      `loom exec processes      first ${cliLine(cli.first, cli.firstWallMs)}; second ${cli.second ? cliLine(cli.second, cli.secondWallMs) : 'not started'}; ` +
        `same container ${cli.sameContainer ? 'yes' : 'no'}; second / first ${fmt(secondVsFirstProcessRatio, 2)}x ` +
        `(${cli.basis === 'exit' ? 'spawn to exit' : 'spawn until the JSON is out and the container parked: not both processes exited by themselves'})`,
      `rss                      ${fmt(rssMb)} MB (heap ${fmt(pooledMem.heapUsedMb)} MB) with ${pooledMem.pooled} container(s) pooled, in a process of ` +
        `their own (${fmt(rssBaselineMb)} MB before its executor, tsx included); the bench's own ${fmt(rssAfterFiguresMb)} MB after the other figures (${mainPooled} pooled)`,
      `traces ingest            ${traces.ingest.map((i) => `${i.encoding} ${i.spansPerS} spans/s (RSS +${i.rssGrowthMb} MB)`).join(', ')} (target >= 50000); ` +
        `first paint of 100,000 spans ${'skipped' in traces.firstPaint ? `skipped: ${traces.firstPaint.skipped}` : `${traces.firstPaint.medianMs} ms median`} (target <= 1000); page fault ${traces.pageFaultNs} ns`,
      `sessions                 creation p50 ${fmt(sessions.create.p50)} ms = ${fmt(ratio(sessions.create.p50, s.cold.p50), 2)}x cold (target <= 1.25x: ${verdict(ratio(sessions.create.p50, s.cold.p50) <= 1.25)}); ` +
        `cell \`x + 1\` p50 ${fmt(sessions.cell.p50, 2)} ms; idle session ${fmt(sessions.idleMemoryMb, 1)} MB (engine's memory figure less page cache)`,
      `gVisor / runc            ${gvisor.available ? `cold ${fmt(gvisor.coldRatio, 2)}x, warm at an idle container ${fmt(gvisor.idleWarmRatio, 2)}x (target <= ${GVISOR_WARM_TARGET}x: ${verdict(gvisor.idleWarmRatio <= GVISOR_WARM_TARGET)}), back to back ${fmt(gvisor.warmRatio, 2)}x` : 'not measured: the engine has no runsc'}`,
      `phases (s)               ${Object.entries(phases).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`,
      '',
      `checks: warm runs that created a container ${problems.warmButCreated}; cold runs that reused one ${problems.coldButReused}; ` +
        `throughput runs that created one ${problems.throughputCreated}; wrong output ${problems.wrongOutput.length}; ` +
        `python warm runs used ${warmContainerIds.size} container(s), throughput runs ${throughputContainerIds.size}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  for (const p of problems.wrongOutput.slice(0, 10)) log(`wrong output: ${p}`);
  if (problems.wrongOutput.length) process.exitCode = 1;
}

try {
  await main();
} catch (err) {
  if (interrupted) log(`interrupted (${err instanceof Error ? err.message : String(err)})`);
  else log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
} finally {
  log('cleaning up');
  await Promise.race([cleanup(), unrefSleep(60_000).then(() => log('the clean-up is still not done after 60 s: giving up on it'))]);
  // A safety net, not the way out: if some handle still keeps the process alive, say which
  // and exit (an unref'd timer never fires when nothing else is left).
  setTimeout(() => {
    log(`still running 10 s after the clean-up (${process.getActiveResourcesInfo().join(', ')}): exiting`);
    process.exit();
  }, 10_000).unref();
}
