// `loom exec`'s options, which drive both its parser and its --help, and the rest of that help.
import { DEFAULT_COMPILE_TIMEOUT_SECONDS, DEFAULT_IMAGES, DEFAULT_LIFECYCLE, DEFAULT_LIMITS, DEFAULT_MAX_OUTPUT_BYTES, LANGUAGE_IMAGES } from '../../../shared/defaults';
import { RUNTIMES } from '../../../shared/runtimes';
import { DEFAULT_ISOLATION, ISOLATIONS } from '../../../shared/isolation';
import { UsageError } from './args';
import { megabytes } from './format';
import { HELP_OPTION, HOST_OPTION, renderHelp, toSpecs, type OptionDoc } from './help';

export const DEFAULT_KEEP_WARM_SECONDS = 600;

/** LOOM_KEEP_WARM (seconds), else the default: `loom exec`'s --keep-warm and `loom host`'s --idle. */
export function keepWarmFromEnv(env: NodeJS.ProcessEnv): number {
  const raw = env['LOOM_KEEP_WARM'];
  if (raw === undefined || raw === '') return DEFAULT_KEEP_WARM_SECONDS;
  if (!/^\d+$/.test(raw)) throw new UsageError(`LOOM_KEEP_WARM must be a number of seconds, got '${raw}'`, 'LOOM_KEEP_WARM');
  return Number(raw);
}

export const NETWORKS = ['none', 'bridge'] as const;

export const EXEC_OPTIONS: readonly OptionDoc[] = [
  { name: 'runtime', value: RUNTIMES.join('|'), help: 'the runtime', default: 'python' },
  {
    name: 'code',
    value: 'FILE|-',
    help: "the program's source, in the runtime's language (with '-', read from our stdin): written in the container, compiled there for go, rust and java, and run; instead of a COMMAND",
  },
  { name: 'compile-timeout', value: 'SECONDS', help: 'the longest a --code compile may take (the --timeout covers compile plus run)', default: DEFAULT_COMPILE_TIMEOUT_SECONDS },
  {
    name: 'image',
    value: 'IMAGE',
    help: 'base image for a language runtime, or the image for custom (required with --runtime custom)',
    default: [...Object.entries(DEFAULT_IMAGES), ...Object.entries(LANGUAGE_IMAGES)].map(([r, i]) => `${r}: ${i}`).join(', '),
  },
  { name: 'package', value: 'NAME', multiple: true, help: 'pip/npm package to install into the container first (./file.whl and ./file.tgz are local files, from any directory)' },
  { name: 'cpus', value: 'N', help: 'CPU cores', default: DEFAULT_LIMITS.cpuCores },
  { name: 'memory', short: 'm', value: 'MB', help: 'memory limit in MB (no swap on top)', default: DEFAULT_LIMITS.memoryMb },
  { name: 'storage', value: 'MB', help: 'writable space (/tmp) in MB', default: DEFAULT_LIMITS.storageMb },
  { name: 'pids', value: 'N', help: 'maximum number of processes', default: DEFAULT_LIMITS.pidsLimit },
  { name: 'timeout', short: 't', value: 'SECONDS', help: 'kill the program after this long (exit status 124)', default: DEFAULT_LIMITS.executionTimeoutSeconds },
  { name: 'network', value: NETWORKS.join('|'), help: 'network access', default: 'none' },
  {
    name: 'isolation',
    value: ISOLATIONS.join('|'),
    help: "the boundary to the host kernel: runc (Docker's default runtime) or gvisor (gVisor's runsc, a user-space kernel; the engine must have it, see `loom doctor`)",
    default: DEFAULT_ISOLATION,
  },
  { name: 'env', short: 'e', value: 'NAME=VALUE', multiple: true, help: "environment variable for the program" },
  { name: 'stdin', value: 'FILE|-', help: "feed FILE (or, with '-', all of our own stdin) to the program's stdin", default: 'empty' },
  { name: 'workdir', short: 'w', value: 'DIR', help: 'working directory inside the container (absolute)', default: '/tmp' },
  {
    name: 'file',
    value: 'LOCAL[:PATH]',
    multiple: true,
    help: 'copy the local file LOCAL into the workspace (/tmp) as PATH (relative; default: its base name) before the program runs',
  },
  {
    name: 'artifacts',
    value: 'DIR',
    help: 'after the run, save the files the program wrote under /tmp/outputs into DIR (made if missing)',
  },
  { name: 'max-executions', value: 'N', help: 'rotate a pooled container after N executions', default: DEFAULT_LIFECYCLE.maxExecutions },
  { name: 'rotation-hours', value: 'H', help: 'rotate a pooled container after H hours', default: DEFAULT_LIFECYCLE.rotationIntervalHours },
  {
    name: 'keep-warm',
    value: 'SECONDS',
    help: 'after the run, keep the container warm this long for the next loom exec with the same config (0: remove it now)',
    default: `$LOOM_KEEP_WARM, else ${DEFAULT_KEEP_WARM_SECONDS}`,
  },
  { name: 'name', value: 'NAME', help: 'config name (shows in container names and `loom containers ls`)' },
  { name: 'quiet', short: 'q', help: 'no progress or notes on stderr (errors still are)' },
  { name: 'json', help: 'print one JSON object with the result on stdout instead of streaming the output' },
  { name: 'trace', help: "after the run, print its trace (Loom's spans and the program's own) as a tree on stderr; not with --json" },
  {
    name: 'otlp',
    value: 'URL',
    help: "also send the trace to this OpenTelemetry collector over OTLP/HTTP: a base URL (http://localhost:4318) or a full .../v1/traces URL; '' sends nothing",
    default: '$OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else $OTEL_EXPORTER_OTLP_ENDPOINT, else none',
  },
  {
    name: 'traceparent',
    value: '00-TRACE-SPAN-FLAGS',
    help: "run under this W3C trace context: the run's docker.execute span becomes a child of that span, in that trace",
    default: '$TRACEPARENT',
  },
  HOST_OPTION,
  { name: 'pip-index-url', value: 'URL|DIR', help: 'pip index: a URL, or a host directory laid out as a PEP 503 simple index', default: 'PyPI' },
  { name: 'pip-find-links', value: 'DIR', help: 'host directory of wheels/sdists for pip (alone: offline, --no-index)' },
  { name: 'npm-registry', value: 'URL', help: 'npm registry URL', default: 'https://registry.npmjs.org' },
  { name: 'ca-file', value: 'FILE', help: 'extra CA bundle to trust for the index and registry (e.g. a corporate TLS proxy)' },
  HELP_OPTION,
];

export const EXEC_SPECS = toSpecs(EXEC_OPTIONS);

export const EXEC_HELP = renderHelp({
  usage: ['loom exec [OPTIONS] [--] COMMAND [ARG...]', 'loom exec [OPTIONS] --code FILE|-'],
  summary:
    'Runs COMMAND in a fresh, locked-down container (non-root, read-only root, no capabilities, no network\n' +
    "unless --network bridge) and streams its stdout and stderr live to ours. Options end at '--' or at the\n" +
    'first argument that is not an option. When loom exits, the container is kept warm for the next loom exec\n' +
    'with the same config (--keep-warm), then removed.',
  options: EXEC_OPTIONS,
  after: `With --json, stdout carries exactly one JSON object: the ExecuteResponse in proto3 JSON, as the app
stores it, with every field present, except that stdout and stderr are UTF-8 text instead of base64:
containerId, exitCode, stdout, stderr, durationMs, containerCreated, timedOut, truncated,
stdoutTruncated, stderrTruncated, oomKilled, timings (ms per phase), usage (the program's wallMs, cpuMs
and peakMemoryKb, measured in the container, and via: runner or exec), traceId, spans,
malformedSpans, droppedSpans; or, when Loom fails, {"error": {"name", "message", ...}}. 64-bit
integers (peakMemoryKb, the span times) are decimal strings. The response keeps the first
${megabytes(DEFAULT_MAX_OUTPUT_BYTES)} of each stream (truncated says so); the live stream without --json is complete. Each span:
traceId, spanId, parentSpanId ('' for the root), name, startTimeUnixNano, endTimeUnixNano,
attributes, status (SPAN_STATUS_OK, SPAN_STATUS_ERROR or SPAN_STATUS_UNSPECIFIED), statusMessage
('' unless there is one), source (SPAN_SOURCE_HOST or SPAN_SOURCE_CONTAINER).

Tracing: every run is traced. The root span docker.execute has Loom's phases (docker.image,
docker.container, docker.packages, docker.compile, docker.run) and the program's own spans as children;
inside the container, Python has 'from loom_trace import tracer, trace_span', Node
require('loom-trace.js'), shell scripts 'loom-span NAME -- COMMAND', and any language may append
records to $LOOM_TRACE_FILE (docs/span-format.md).
--trace prints the tree after the program's output, on stderr so that stdout stays the program's;
--otlp (or the OTEL_EXPORTER_OTLP_* variables) sends it to a collector, waiting at most 3 s for it
on exit.

Exit status: the program's; 123 the --code source did not compile (compileError in --json); 124 timed out; 125 Loom could not run it (invalid request, engine unavailable,
image pull, package install or command not found); 130 interrupted (SIGINT/SIGTERM); 2 bad usage.

Examples:
  loom exec -- python3 -c 'print("hello")'
  echo '{"a": 1}' | loom exec --stdin - -- python3 -c 'import json,sys; print(json.load(sys.stdin))'
  loom exec --runtime node --timeout 5 -- node -e 'console.log(process.version)'
  loom exec --isolation gvisor -- python3 -c 'import os; print(os.uname().release)'
  loom exec --package requests --network bridge --json -- python3 -c 'import requests'
  loom exec --trace --otlp http://localhost:4318 -- python3 script.py
  loom exec --runtime go --code main.go
  echo 'puts 6 * 7' | loom exec --runtime ruby --code -`,
});
