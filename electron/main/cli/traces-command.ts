// `loom traces ls|show|export|import`: the trace store the app and `loom ui` write (the run
// history's SQLite file), read and written from the command line. No Docker engine is needed.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { buildSpanTree, formatSpanTree, type SpanNode } from '../../../shared/span-tree';
import type { TraceSpan, TraceSummary } from '../../../shared/traces/types';
import { toViewSpan } from '../../../shared/traces/view-span';
import { ValidationError } from '../engine/errors';
import { decodeOtlpJsonText, encodeOtlpJson, OtlpDecodeError } from '../traces/otlp-json';
import { TraceStore } from '../traces/trace-store';
import { UsageError, flag, parseInteger, parseWithPositionals, stringOption, type ParsedValues } from './args';
import { age, reportLoomError, reportUsage, table, writeJson, type Io } from './format';
import { HELP_OPTION, renderHelp, toSpecs, type CommandHelp, type OptionDoc } from './help';

const HISTORY_OPTION: OptionDoc = { name: 'history', value: 'FILE', help: 'the history file the traces are kept in', default: '$LOOM_HOME/history.sqlite' };
const JSON_OPTION: OptionDoc = { name: 'json', help: 'print JSON instead of text' };

export const TRACES_HELP = renderHelp({
  usage: ['loom traces ls [--json]', 'loom traces show ID [--json]', 'loom traces export ID [FILE]', 'loom traces import FILE'],
  summary:
    "The traces the Loom window shows: those its OTLP receiver took in (an agent's spans), imported ones,\nand every run's. They live in the run history file that 'loom ui' writes ($LOOM_HOME/history.sqlite).",
  options: [HELP_OPTION],
  after: `Subcommands:
  ls       list traces, newest first: id, root span, services, spans, errors, duration, age
  show     print a trace's span tree (ID: the trace id or a unique start of it)
  export   write a trace as OTLP JSON to FILE, or to stdout
  import   store the traces of an OTLP JSON file

Run 'loom traces SUBCOMMAND --help' for its options.`,
});

interface Sub {
  help: CommandHelp;
  run(store: TraceStore, values: ParsedValues, positionals: string[], io: Io): Promise<number>;
}

const SUBCOMMANDS: Record<string, Sub> = {
  ls: {
    help: {
      usage: ['loom traces ls [--json] [--limit N] [--service NAME] [--errors]'],
      summary: 'Lists the stored traces, newest first.',
      options: [
        JSON_OPTION,
        { name: 'limit', value: 'N', help: 'at most N traces', default: 50 },
        { name: 'service', value: 'NAME', help: 'only traces with a span of this service' },
        { name: 'errors', help: 'only traces with a failed span' },
        HISTORY_OPTION,
        HELP_OPTION,
      ],
    },
    async run(store, values, positionals, io) {
      if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
      const rawLimit = stringOption(values, 'limit');
      const limit = rawLimit === undefined ? 50 : parseInteger('limit', rawLimit);
      if (limit < 1 || limit > 1000) throw new UsageError('--limit must be from 1 to 1000', '--limit');
      const traces = store.list({ limit, service: stringOption(values, 'service'), ...(flag(values, 'errors') ? { status: 'error' as const } : {}) });
      if (flag(values, 'json')) {
        writeJson(io, traces);
        return 0;
      }
      const rows = traces.map((t) => [
        t.traceId,
        clip(t.rootName || '(unnamed)', 40) + (t.complete ? '' : ' …'),
        clip(t.services.join(','), 30),
        String(t.spanCount),
        String(t.errorCount),
        `${t.durationMs.toFixed(1)} ms`,
        age(t.startMs),
      ]);
      io.stdout.write(table(['TRACE ID', 'ROOT', 'SERVICES', 'SPANS', 'ERRORS', 'DURATION', 'AGE'], rows));
      return 0;
    },
  },
  show: {
    help: {
      usage: ['loom traces show ID [--json]'],
      summary: "Prints a trace's span tree: each span's name, service (or host/container for Loom's own), duration, and errors.",
      options: [{ name: 'json', help: 'print the tree as JSON: {summary, roots: [{span, children}]}' }, HISTORY_OPTION, HELP_OPTION],
    },
    async run(store, values, positionals, io) {
      const record = store.get(resolveId(store, oneId(positionals)));
      if (!record) throw new ValidationError('id', 'the trace was removed meanwhile');
      const bySpan = new Map(record.spans.map((s) => [s.spanId, s]));
      const tree = buildSpanTree(record.spans.map(toViewSpan));
      if (flag(values, 'json')) {
        writeJson(io, { summary: record.summary, roots: tree.children.map((n) => jsonNode(n, bySpan)) });
        return 0;
      }
      io.stdout.write(`trace ${record.summary.traceId}: ${record.summary.spanCount} spans, ${record.summary.errorCount} errors, ${record.summary.durationMs.toFixed(1)} ms\n`);
      io.stdout.write(`${formatSpanTree(tree, { label: (span) => labelOf(bySpan.get(span.spanId)) })}\n`);
      return 0;
    },
  },
  export: {
    help: {
      usage: ['loom traces export ID [FILE]'],
      summary: 'Writes a trace as OTLP JSON (an ExportTraceServiceRequest), to FILE or to stdout: what any OpenTelemetry\ncollector takes at /v1/traces, and what `loom traces import` and the window read back.',
      options: [HISTORY_OPTION, HELP_OPTION],
    },
    async run(store, _values, positionals, io) {
      if (positionals.length === 0 || positionals.length > 2) throw new UsageError('expected a trace id and at most one file');
      const record = store.get(resolveId(store, positionals[0] as string));
      if (!record) throw new ValidationError('id', 'the trace was removed meanwhile');
      const json = `${JSON.stringify(encodeOtlpJson(record.spans))}\n`;
      const file = positionals[1];
      if (file === undefined || file === '-') io.stdout.write(json);
      else {
        await writeFile(resolve(file), json);
        io.stderr.write(`wrote ${record.spans.length} spans of trace ${record.summary.traceId} to ${file}\n`);
      }
      return 0;
    },
  },
  import: {
    help: {
      usage: ['loom traces import FILE'],
      summary: 'Stores the traces of an OTLP JSON file (as `loom traces export` or an OpenTelemetry collector writes them).',
      options: [HISTORY_OPTION, HELP_OPTION],
    },
    async run(store, _values, positionals, io) {
      if (positionals.length !== 1) throw new UsageError('expected one file');
      const file = positionals[0] as string;
      let spans: TraceSpan[];
      try {
        spans = decodeOtlpJsonText(await readFile(file, 'utf8')).spans;
      } catch (err) {
        if (err instanceof OtlpDecodeError) throw new ValidationError('file', `${file} is not an OTLP JSON trace file: ${err.message}`);
        throw err;
      }
      const { stored, traceIds } = store.add(spans);
      io.stdout.write(`imported ${stored} spans of ${traceIds.length} trace${traceIds.length === 1 ? '' : 's'}: ${traceIds.join(' ')}\n`);
      return 0;
    },
  },
};

export async function tracesCommand(argv: readonly string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout).write(TRACES_HELP);
    return name === undefined ? 2 : 0;
  }
  const sub = SUBCOMMANDS[name];
  const label = `loom traces ${name}`;
  if (!sub) {
    io.stderr.write(`loom traces: unknown subcommand '${name}' (expected ls, show, export or import)\nRun 'loom traces --help' for usage.\n`);
    return 2;
  }
  let values: ParsedValues;
  let positionals: string[];
  try {
    ({ values, positionals } = parseWithPositionals(rest, toSpecs(sub.help.options)));
  } catch (err) {
    if (err instanceof UsageError) return reportUsage(io, err, label, false);
    throw err;
  }
  if (flag(values, 'help')) {
    io.stdout.write(renderHelp(sub.help));
    return 0;
  }
  const json = flag(values, 'json');
  let store: TraceStore | undefined;
  try {
    const path = historyPath(stringOption(values, 'history'));
    if (!existsSync(path) && name !== 'import') throw new ValidationError('history', `${path} does not exist yet: no traces were stored there (loom ui and the app create it)`);
    await mkdir(dirname(path), { recursive: true });
    store = new TraceStore(path);
    return await sub.run(store, values, positionals, io);
  } catch (err) {
    if (err instanceof UsageError) return reportUsage(io, err, label, json);
    return reportLoomError(io, err, json);
  } finally {
    store?.close();
  }
}

function historyPath(option: string | undefined): string {
  if (option !== undefined) return resolve(option);
  const home = process.env['LOOM_HOME'] || join(homedir(), '.loom');
  return join(home, 'history.sqlite');
}

function oneId(positionals: string[]): string {
  if (positionals.length !== 1) throw new UsageError('expected one trace id');
  return positionals[0] as string;
}

/** A trace id, or a unique start of one (at least 4 hex digits). */
function resolveId(store: TraceStore, ref: string): string {
  const id = ref.toLowerCase();
  if (!/^[0-9a-f]{4,32}$/.test(id)) throw new ValidationError('id', `'${ref.slice(0, 64)}' is not a trace id (32 hex digits, or a unique start of at least 4)`);
  const matches: TraceSummary[] = store.list({ text: id, limit: 1000 }).filter((t) => t.traceId.startsWith(id));
  if (matches.length === 0) throw new ValidationError('id', `no trace ${id} in the store ('loom traces ls' lists them)`);
  if (matches.length > 1) throw new ValidationError('id', `${id} is the start of ${matches.length} trace ids: give more of it`);
  return (matches[0] as TraceSummary).traceId;
}

function labelOf(span: TraceSpan | undefined): string {
  if (!span) return 'unknown';
  return span.source === 'external' ? span.service || 'unknown service' : span.source;
}

interface JsonNode {
  span: TraceSpan;
  children: JsonNode[];
}

function jsonNode(node: SpanNode, bySpan: Map<string, TraceSpan>): JsonNode {
  // Iterative: a trace can nest thousands deep.
  const root: JsonNode = { span: bySpan.get(node.span?.spanId ?? '') as TraceSpan, children: [] };
  const stack: [SpanNode, JsonNode][] = [[node, root]];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const [n, out] = item;
    for (const child of n.children) {
      const c: JsonNode = { span: bySpan.get(child.span?.spanId ?? '') as TraceSpan, children: [] };
      out.children.push(c);
      stack.push([child, c]);
    }
  }
  return root;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
