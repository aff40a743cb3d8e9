// Loom's latency and throughput against raw dockerode baselines measured in the same run.
//
//   npm run bench [-- --json] [--quick] [--n-warm N] [--n-cold N] [--throughput-total N]
//
// Not a test: it measures and prints. Progress goes to stderr; stdout carries the table (or,
// with --json, exactly one JSON object).
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
//   warm      executor.execute() of the same request, caller's view, after one warm-up.
//   cold      execute() with lifecycle.maxExecutions 1: every run creates a container. The
//             pool removes the spent container in the background; the bench waits (untimed)
//             for that removal to finish before the next run, so both cold paths start from a
//             quiet engine, like rawCold.
//   throughput  8 workers sharing one executor key with 4 pre-warmed containers.
// rawExec/warm and rawCold/cold are interleaved (ABAB, order alternating) so that noise from
// other users of the engine hits both sides of each ratio alike.
import { create } from '@bufbuild/protobuf';
import type Docker from 'dockerode';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { Writable } from 'node:stream';
import { createOptions, SANDBOX_USER } from '../electron/main/engine/container';
import { connectDocker } from '../electron/main/engine/docker-client';
import { createExecutor, type ExecuteRequestInput, type Executor } from '../electron/main/engine/executor';
import { currentOwner, LABEL } from '../electron/main/engine/labels';
import { normalizeRequest, WRITABLE_DIR } from '../electron/main/engine/request';
import { ExecuteRequestSchema, RuntimeType, type ExecuteResponse } from '../shared/gen/loom/v1/docker_pb';
import { fmt, formatTable, percentile, ratio, round, summarize, type Summary } from './stats';

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
  --n-cold N           cold runs per figure (default 15)
  --throughput-total N executions in the throughput run (default 200)`;

function parseArgs(argv: string[]): Options {
  const opts = { json: false, quick: false, nWarm: 50, nCold: 15, throughputTotal: 200 };
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

const pyWarmRequest: ExecuteRequestInput = { command: PY_HELLO };
const pyColdRequest: ExecuteRequestInput = { command: PY_HELLO, config: { lifecycle: { maxExecutions: 1 } } };
const nodeWarmRequest: ExecuteRequestInput = { runtimeType: RuntimeType.NODE, command: NODE_HELLO };

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

async function removeQuietly(docker: Docker, id: string): Promise<void> {
  try {
    await docker.getContainer(id).remove({ force: true, v: true });
  } catch (err) {
    const status = (err as { statusCode?: number }).statusCode;
    if (status !== 404 && status !== 409) throw err;
  }
}

/** Removes whatever still carries one of these owner instances (the last line of defence). */
async function sweep(docker: Docker, instances: string[]): Promise<number> {
  let removed = 0;
  for (const instance of instances) {
    const left = await docker.listContainers({ all: true, filters: { label: [`${LABEL.ownerInstance}=${instance}`] } });
    await Promise.all(left.map((c) => removeQuietly(docker, c.Id)));
    removed += left.length;
  }
  return removed;
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
  await removeQuietly(docker, container.id);
  created.delete(name);
  return { ms, exitCode: waited.StatusCode, stdout: out.text() };
}

// ---------------------------------------------------------------- Loom

interface LoomRun extends RunResult {
  response: ExecuteResponse;
}

async function loomRun(executor: Executor, request: ExecuteRequestInput): Promise<LoomRun> {
  const t0 = performance.now();
  const response = await executor.execute(request);
  const ms = performance.now() - t0;
  return { ms, exitCode: response.exitCode, stdout: Buffer.from(response.stdout).toString('utf8'), response };
}

// ---------------------------------------------------------------- the run

interface Problems {
  /** Runs whose exit code or output was wrong. */
  wrongOutput: string[];
  /** Warm runs that created a container. */
  warmButCreated: number;
  /** Cold runs (maxExecutions 1) that reused a container. */
  coldButReused: number;
  /** Throughput runs that created a container even though 4 were pre-warmed. */
  throughputCreated: number;
}

function check(problems: Problems, what: string, r: RunResult): void {
  if (r.exitCode !== 0 || r.stdout !== EXPECTED) {
    problems.wrongOutput.push(`${what}: exit ${r.exitCode}, stdout ${JSON.stringify(r.stdout.slice(0, 200))}`);
  }
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const startedAt = performance.now();
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
  log(`engine ${version.Version} (API ${version.ApiVersion}) at ${address}; n-warm ${opts.nWarm}, n-cold ${opts.nCold}, throughput ${opts.throughputTotal}`);

  // The raw baselines use Loom's own create options for the same request, so the security
  // settings (and limits) are identical; only the code path differs.
  const rawOwner = currentOwner(`bench-raw-${randomUUID()}`);
  const spec = normalizeRequest(create(ExecuteRequestSchema, pyWarmRequest), { allowHostMounts: false }).container;
  const sandboxOptions = createOptions({ spec, poolKey: 'benchraw', owner: rawOwner });
  const rawCreated = new Set<string>();
  cleanups.push(async () => {
    for (const name of rawCreated) await removeQuietly(docker, name);
    const swept = await sweep(docker, [rawOwner.instance]);
    if (swept) log(`swept ${swept} leftover raw container(s)`);
  });

  // No background top-ups: the cold figure must measure real cold starts.
  const executor = await createExecutor({ docker, maxContainersPerKey: opts.containers, minIdlePerConfig: 0, onError: (e) => log(`engine background error: ${String(e)}`) });
  const loomInstance = executor.scheduler.owner.instance;
  cleanups.push(async () => {
    await executor.close();
    const swept = await sweep(docker, [loomInstance]);
    if (swept) log(`swept ${swept} container(s) the executor left behind`);
  });

  const problems: Problems = { wrongOutput: [], warmButCreated: 0, coldButReused: 0, throughputCreated: 0 };
  const samples = {
    rawCold: [] as number[],
    cold: [] as number[],
    coldContainerMs: [] as number[],
    rawExec: [] as number[],
    warm: [] as number[],
    warmNode: [] as number[],
    throughputLatency: [] as number[],
    rawThroughputLatency: [] as number[],
  };
  const warmContainerIds = new Set<string>();

  // --- cold: rawCold vs Loom with maxExecutions 1 (first, so that no warm container exists).
  log('cold: warm-up');
  check(problems, 'rawCold warm-up', await rawCold(docker, sandboxOptions, PY_HELLO, rawCreated));
  {
    const r = await loomRun(executor, pyColdRequest);
    check(problems, 'cold warm-up', r);
    await waitGone(docker, r.response.containerId);
  }
  for (let i = 0; i < opts.nCold; i++) {
    const runRaw = async (): Promise<void> => {
      const r = await rawCold(docker, sandboxOptions, PY_HELLO, rawCreated);
      check(problems, `rawCold #${i}`, r);
      samples.rawCold.push(r.ms);
    };
    const runLoom = async (): Promise<void> => {
      const r = await loomRun(executor, pyColdRequest);
      check(problems, `cold #${i}`, r);
      if (!r.response.containerCreated) problems.coldButReused++;
      samples.cold.push(r.ms);
      samples.coldContainerMs.push(r.response.timings?.containerMs ?? Number.NaN);
      await waitGone(docker, r.response.containerId); // untimed
    };
    if (i % 2 === 0) {
      await runRaw();
      await runLoom();
    } else {
      await runLoom();
      await runRaw();
    }
    log(`cold ${i + 1}/${opts.nCold}: raw ${fmt(samples.rawCold.at(-1) ?? NaN)} ms, loom ${fmt(samples.cold.at(-1) ?? NaN)} ms`);
  }

  // --- warm: rawExec vs Loom warm, python.
  log('warm: starting the raw container and warming both sides up');
  const rawName = `loom-bench-rawexec-${randomBytes(4).toString('hex')}`;
  rawCreated.add(rawName);
  const rawContainer = await docker.createContainer({ ...sandboxOptions, name: rawName });
  await rawContainer.start();
  check(problems, 'rawExec warm-up', await rawExec(docker, rawContainer, PY_HELLO));
  check(problems, 'warm warm-up', await loomRun(executor, pyWarmRequest));
  for (let i = 0; i < opts.nWarm; i++) {
    const runRaw = async (): Promise<void> => {
      const r = await rawExec(docker, rawContainer, PY_HELLO);
      check(problems, `rawExec #${i}`, r);
      samples.rawExec.push(r.ms);
    };
    const runLoom = async (): Promise<void> => {
      const r = await loomRun(executor, pyWarmRequest);
      check(problems, `warm #${i}`, r);
      if (r.response.containerCreated) problems.warmButCreated++;
      warmContainerIds.add(r.response.containerId);
      samples.warm.push(r.ms);
    };
    if (i % 2 === 0) {
      await runRaw();
      await runLoom();
    } else {
      await runLoom();
      await runRaw();
    }
  }
  log(`warm: raw p50 ${fmt(percentile(samples.rawExec, 50))} ms, loom p50 ${fmt(percentile(samples.warm, 50))} ms`);
  // The raw container is no longer needed; removing it now keeps the remaining figures fair.
  await removeQuietly(docker, rawContainer.id);
  rawCreated.delete(rawName);

  // --- warm node.
  log('warm node: warm-up');
  check(problems, 'warm node warm-up', await loomRun(executor, nodeWarmRequest));
  for (let i = 0; i < opts.nWarm; i++) {
    const r = await loomRun(executor, nodeWarmRequest);
    check(problems, `warm node #${i}`, r);
    if (r.response.containerCreated) problems.warmButCreated++;
    samples.warmNode.push(r.ms);
  }
  log(`warm node: p50 ${fmt(percentile(samples.warmNode, 50))} ms`);

  // --- throughput: 4 pre-warmed containers, 8 workers; the raw baseline is the same with 4
  // raw containers handed out one run at a time (as Loom's pool does). Blocks of half the runs
  // in the order raw, Loom, Loom, raw, so that drifting background load hits both alike.
  log(`throughput: prewarming ${opts.containers} Loom and ${opts.containers} raw containers`);
  await executor.prewarm(pyWarmRequest, opts.containers);
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
    const t0 = performance.now();
    await Promise.all(Array.from({ length: opts.concurrency }, worker));
    return performance.now() - t0;
  };
  const firstHalf = Math.ceil(opts.throughputTotal / 2);
  const secondHalf = opts.throughputTotal - firstHalf;
  const wall = { raw: 0, loom: 0 };
  wall.raw += await block('raw', firstHalf);
  wall.loom += await block('loom', firstHalf);
  if (secondHalf) {
    wall.loom += await block('loom', secondHalf);
    wall.raw += await block('raw', secondHalf);
  }
  const throughputWallMs = wall.loom;
  const throughputPerS = (opts.throughputTotal / wall.loom) * 1000;
  const rawThroughputPerS = (opts.throughputTotal / wall.raw) * 1000;
  log(`throughput: raw ${fmt(rawThroughputPerS)}/s, loom ${fmt(throughputPerS)}/s`);
  for (const c of rawPool) await removeQuietly(docker, c.id);
  for (const name of [...rawCreated]) if (name.startsWith('loom-bench-rawtp-')) rawCreated.delete(name);

  // --- memory, with the executor's containers still pooled.
  const pooled = executor.containers().length;
  const rssMb = process.memoryUsage().rss / (1024 * 1024);

  // --- report.
  const s = {
    rawExec: summarize(samples.rawExec),
    warm: summarize(samples.warm),
    warmNode: summarize(samples.warmNode),
    rawCold: summarize(samples.rawCold),
    cold: summarize(samples.cold),
    coldContainerMs: summarize(samples.coldContainerMs),
    throughputLatency: summarize(samples.throughputLatency),
    rawThroughputLatency: summarize(samples.rawThroughputLatency),
  };
  const throughputVsRawRatio = ratio(throughputPerS, rawThroughputPerS);
  const warmVsRawExecRatio = ratio(s.warm.p50, s.rawExec.p50);
  const coldVsRawColdRatio = ratio(s.cold.p50, s.rawCold.p50);
  const elapsedS = (performance.now() - startedAt) / 1000;

  if (opts.json) {
    const fig = (x: Summary): Record<string, number | null> => ({ n: x.n, p50: round(x.p50), p99: round(x.p99), mean: round(x.mean), min: round(x.min), max: round(x.max) });
    const result = {
      warmP50Ms: round(s.warm.p50),
      warmP99Ms: round(s.warm.p99),
      rawExecP50Ms: round(s.rawExec.p50),
      rawExecP99Ms: round(s.rawExec.p99),
      warmNodeP50Ms: round(s.warmNode.p50),
      warmNodeP99Ms: round(s.warmNode.p99),
      coldP50Ms: round(s.cold.p50),
      coldP99Ms: round(s.cold.p99),
      coldContainerMsP50: round(s.coldContainerMs.p50),
      rawColdP50Ms: round(s.rawCold.p50),
      rawColdP99Ms: round(s.rawCold.p99),
      packagesCachedColdP50Ms: null,
      throughputPerS: round(throughputPerS),
      rawThroughputPerS: round(rawThroughputPerS),
      throughputVsRawRatio: round(throughputVsRawRatio, 3),
      throughputLatencyP50Ms: round(s.throughputLatency.p50),
      throughputLatencyP99Ms: round(s.throughputLatency.p99),
      warmVsRawExecRatio: round(warmVsRawExecRatio, 3),
      coldVsRawColdRatio: round(coldVsRawColdRatio, 3),
      rssMb: round(rssMb, 1),
      pooledContainers: pooled,
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
      elapsedS: round(elapsedS, 1),
      figures: {
        rawExec: fig(s.rawExec),
        warm: fig(s.warm),
        warmNode: fig(s.warmNode),
        rawCold: fig(s.rawCold),
        cold: fig(s.cold),
        coldContainerMs: fig(s.coldContainerMs),
        throughputLatency: fig(s.throughputLatency),
        rawThroughputLatency: fig(s.rawThroughputLatency),
      },
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    const row = (name: string, x: Summary): string[] => [name, fmt(x.p50), fmt(x.p99), fmt(x.mean), fmt(x.min), fmt(x.max), String(x.n)];
    const table = formatTable(
      ['figure (ms)', 'p50', 'p99', 'mean', 'min', 'max', 'n'],
      [
        row('rawExec    dockerode exec, python hello', s.rawExec),
        row('warm       Loom, python hello', s.warm),
        row('warm node  Loom, node hello', s.warmNode),
        row('rawCold    dockerode create+start+wait', s.rawCold),
        row('cold       Loom, maxExecutions 1', s.cold),
        row('  cold timings.containerMs', s.coldContainerMs),
        row(`raw throughput latency (${opts.concurrency} workers)`, s.rawThroughputLatency),
        row(`Loom throughput latency (${opts.concurrency} workers)`, s.throughputLatency),
      ],
    );
    const lines = [
      '',
      `Loom bench — engine ${version.Version}, ${elapsedS.toFixed(0)} s; p50/p99 are nearest-rank, times are the caller's wall clock`,
      '',
      table,
      '',
      `warm p50 / rawExec p50   ${fmt(warmVsRawExecRatio, 2)}x   (${fmt(s.warm.p50 - s.rawExec.p50)} ms over raw)`,
      `cold p50 / rawCold p50   ${fmt(coldVsRawColdRatio, 2)}x   (${fmt(s.cold.p50 - s.rawCold.p50)} ms over raw; raw removal untimed)`,
      `throughput               ${fmt(throughputPerS)} executions/s vs raw ${fmt(rawThroughputPerS)}/s = ${fmt(throughputVsRawRatio, 2)}x  (${opts.throughputTotal} runs each, ${opts.concurrency} workers, ${opts.containers} pre-warmed containers, Loom ${(throughputWallMs / 1000).toFixed(1)} s)`,
      `rss                      ${fmt(rssMb)} MB with ${pooled} container(s) pooled`,
      `packages (cached) cold   not measured yet`,
      '',
      `checks: warm runs that created a container ${problems.warmButCreated}; cold runs that reused one ${problems.coldButReused}; ` +
        `throughput runs that created one ${problems.throughputCreated}; wrong output ${problems.wrongOutput.length}; ` +
        `python warm runs used ${warmContainerIds.size} container(s)`,
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
  await cleanup();
}
