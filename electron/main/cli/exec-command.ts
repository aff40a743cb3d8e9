// `loom exec`: one ExecuteRequest from the command line, its output streamed live (or one
// JSON object with --json), the program's exit status as ours.
import { DEFAULT_MAX_OUTPUT_BYTES } from '../../../shared/defaults';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Artifact, ExecuteEvent, ExecuteResponse } from '../../../shared/gen/loom/v1/docker_pb';
import { buildSpanTree, formatSpanTree } from '../../../shared/span-tree';
import type { Executor } from '../engine/executor';
import { UsageError, flag, parseWithCommand, splitArgs, type ParsedValues } from './args';
import { responseJson } from './exec-json';
import { EXEC_HELP, EXEC_SPECS } from './exec-options';
import { planExec, type ExecPlan } from './exec-plan';
import { RunStops, type SignalSource } from './exec-signals';
import { EXIT, megabytes, note, reportLoomError, reportUsage, writeJson, type Io } from './format';
import { canHandOff, handOff, type HandOffOptions } from './handoff-client';
import { OutputRelay } from './output-relay';
import { ProgressReporter } from './progress';

/** Where a `loom exec` runs: in its own process (the default), or in a host for a native client. */
export interface ExecContext {
  /** Where the options' defaults come from (TRACEPARENT, LOOM_KEEP_WARM, LOOM_NO_HANDOFF). */
  env: NodeJS.ProcessEnv;
  /** Where SIGINT and SIGTERM come from. */
  signals: SignalSource;
  /** Runs the run in a host, or answers null: nothing ran, and this process works alone (or, hosted, declines). */
  handOff: (plan: ExecPlan, opts: Pick<HandOffOptions, 'onEvent' | 'signal'>) => Promise<ExecuteResponse | null>;
  /**
   * In a host, for the native client (api/handoff-host.ts): a command line that reads the client's
   * own files or stdin, or that the host's executor would not run as the client's would, is
   * DECLINED before anything runs or is written.
   */
  hosted: boolean;
}

/** execCommand's answer, hosted, to a command line it leaves to the client's own `loom exec`. */
export const DECLINED = -1;

/**
 * Options that name the client's own files, directories or stdin, which a host would read from
 * its own directory instead (and which a host could not take anyway: see canHandOff).
 */
const CLIENT_SIDE_OPTIONS = ['code', 'stdin', 'file', 'artifacts', 'pip-index-url', 'pip-find-links', 'ca-file'];

const OWN_PROCESS: ExecContext = {
  env: process.env,
  signals: process,
  handOff: (plan, opts) => (canHandOff(plan) ? handOff(plan.request, opts) : Promise.resolve(null)),
  hosted: false,
};

export async function execCommand(argv: readonly string[], io: Io, ctx: ExecContext = OWN_PROCESS): Promise<number> {
  // Known before parsing, so that even a usage error can answer in JSON.
  const wantsJson = splitArgs(argv, EXEC_SPECS, true).options.includes('--json');
  let values: ParsedValues;
  let command: string[];
  try {
    ({ values, command } = parseWithCommand(argv, EXEC_SPECS));
    if (flag(values, 'help')) {
      io.stdout.write(EXEC_HELP);
      return 0;
    }
    const code = values['code'] !== undefined;
    if (command.length === 0 && !code) throw new UsageError('missing COMMAND: give the program to run after the options (loom exec [OPTIONS] -- COMMAND...), or its source with --code FILE');
    if (command.length > 0 && code) throw new UsageError('give either --code FILE or a COMMAND, not both', '--code');
    if (ctx.hosted && CLIENT_SIDE_OPTIONS.some((name) => values[name] !== undefined)) return DECLINED;
  } catch (err) {
    if (err instanceof UsageError) return reportUsage(io, err, 'loom exec', wantsJson);
    throw err;
  }

  const json = flag(values, 'json');
  const quiet = flag(values, 'quiet') || json;
  const stops = new RunStops(io, quiet, ctx.signals);
  let executor: Executor | undefined;
  try {
    let plan: ExecPlan;
    try {
      plan = await planExec(values, command, io, stops.signal, ctx.env);
    } catch (err) {
      if (err instanceof UsageError) return reportUsage(io, err, 'loom exec', json);
      throw err;
    }
    if (stops.signal.aborted) return stops.exitStatus(json);

    const progress = new ProgressReporter({ write: (line) => note(io, line) });
    const relay = new OutputRelay(io);
    const onEvent = (event: ExecuteEvent): void => {
      const e = event.event;
      if (!json && (e.case === 'stdout' || e.case === 'stderr')) relay.write(e.case, e.value);
      else if (!quiet) progress.onEvent(event);
    };
    // A Loom host process of this user (loom ui, the app) runs it on its warm executor, if one
    // runs; else this process does, with an engine client of its own (loaded only then).
    const handed = await ctx.handOff(plan, { onEvent, signal: stops.signal });
    if (handed) return finish(io, plan, handed, relay);
    if (ctx.hosted) return DECLINED;
    if (stops.signal.aborted) return stops.exitStatus(json);
    const { createExecutor } = await import('../engine/executor');
    executor = await createExecutor({
      dockerHost: plan.dockerHost,
      packageSources: plan.packageSources,
      // The user names their own files here: --package ./file may be any file they can read.
      localPackages: 'anywhere',
      otlpEndpoint: plan.otlpEndpoint,
      parkOnClose: plan.keepWarmSeconds > 0,
      // One run per process: the container it parks is what keeps the next process warm.
      minIdlePerConfig: 0,
      idleTtlMs: plan.keepWarmSeconds * 1000,
      onError: (err) => {
        if (!quiet) note(io, `warning: ${err instanceof Error ? err.message : String(err)}`);
      },
    });
    if (stops.signal.aborted) return stops.exitStatus(json);

    const artifactsDir = plan.artifactsDir;
    const onArtifact = artifactsDir === undefined ? undefined : (artifact: Artifact, content: AsyncIterable<Buffer>) => saveArtifact(artifactsDir, artifact.path, content);
    const response = await executor.execute(plan.request, { onEvent, signal: stops.signal, onArtifact });
    return finish(io, plan, response, relay);
  } catch (err) {
    if (stops.signal.aborted) return stops.exitStatus(json);
    return reportLoomError(io, err, json);
  } finally {
    try {
      await executor?.close();
    } catch (err) {
      if (!quiet) note(io, `warning: could not remove every container: ${err instanceof Error ? err.message : String(err)}`);
    }
    stops.dispose();
  }
}

/** Streams one artifact (outputs/a/b.png) to DIR/a/b.png; its path was checked by the engine. */
export async function saveArtifact(dir: string, path: string, content: AsyncIterable<Buffer>): Promise<void> {
  const target = join(dir, relative('outputs', path));
  if (relative(dir, target).startsWith(`..${sep}`)) throw new Error(`artifact ${path} would land outside ${dir}`);
  await mkdir(dirname(target), { recursive: true });
  await pipeline(Readable.from(content), createWriteStream(target));
}

function finish(io: Io, plan: ExecPlan, r: ExecuteResponse, relay: OutputRelay): number {
  const status = r.compileError ? EXIT.compileError : r.timedOut ? EXIT.timedOut : r.exitCode;
  if (plan.json) {
    writeJson(io, responseJson(r));
    return status;
  }
  if (!plan.quiet) {
    if (r.compileError) note(io, r.timedOut ? 'compile error: the compile timed out' : 'compile error: the program did not compile (the diagnostics are above); nothing ran');
    else if (r.timedOut) note(io, `timed out after ${plan.timeoutSeconds}s`);
    if (r.oomKilled) note(io, `killed: out of memory (limit ${plan.memoryMb} MB)`);
    if (plan.artifactsDir !== undefined) note(io, `saved ${r.artifacts.length} artifact${r.artifacts.length === 1 ? '' : 's'} to ${plan.artifactsDir}`);
    const cut = [r.stdoutTruncated ? 'stdout' : '', r.stderrTruncated ? 'stderr' : ''].filter(Boolean);
    if (r.truncated) {
      note(io, `truncated: the response kept only the first ${megabytes(DEFAULT_MAX_OUTPUT_BYTES)} of ${cut.join(' and ') || 'the output'} (the output above is complete)`);
    }
  }
  if (plan.trace) {
    // Output that did not end its last line would otherwise run into the header on a terminal.
    if (!relay.atLineStart) io.stderr.write('\n');
    io.stderr.write(`${traceReport(r)}\n`);
  }
  return status;
}

/** The header line and the span tree that --trace prints. */
export function traceReport(r: Pick<ExecuteResponse, 'traceId' | 'spans' | 'malformedSpans' | 'droppedSpans'>): string {
  const counts = [`${r.spans.length} span${r.spans.length === 1 ? '' : 's'}`];
  if (r.malformedSpans) counts.push(`${r.malformedSpans} malformed`);
  if (r.droppedSpans) counts.push(`${r.droppedSpans} dropped`);
  const header = `trace ${r.traceId} (${counts.join(', ')})`;
  const tree = formatSpanTree(buildSpanTree(r.spans), { durations: true });
  return tree ? `${header}\n${tree}` : header;
}
