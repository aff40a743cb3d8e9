// `loom traces` against a real store file: what the app writes, the CLI lists, shows, exports
// and imports; the export is OTLP JSON that reads back to the same spans.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TraceSpan } from '../../../shared/traces/types';
import { TraceStore } from '../traces/trace-store';
import { tracesCommand } from './traces-command';

let dir: string;
let history: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'loom-traces-cli-'));
  history = join(dir, 'history.sqlite');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function loom(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await tracesCommand([...argv, '--history', history], { stdout, stderr, stdin: Readable.from([]) });
  return { code, stdout: out, stderr: err };
}

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const base = (over: Partial<TraceSpan> & { spanId: string; name: string }): TraceSpan => ({
  traceId: TRACE,
  parentSpanId: '',
  kind: 1,
  startTimeUnixNano: '1700000000000000000',
  endTimeUnixNano: '1700000000050000000',
  service: 'my-agent',
  scope: 'agent',
  attributes: { 'agent.turn': 1 },
  resource: { 'service.name': 'my-agent' },
  status: 'unset',
  statusMessage: '',
  events: [],
  links: [],
  source: 'external',
  ...over,
});
const SPANS: TraceSpan[] = [
  base({ spanId: 'a000000000000001', name: 'agent.step' }),
  base({
    spanId: 'b000000000000001',
    parentSpanId: 'a000000000000001',
    name: 'docker.execute',
    service: 'loom-sandbox',
    resource: { 'service.name': 'loom-sandbox' },
    source: 'host',
    status: 'error',
    statusMessage: 'exit code 1',
    startTimeUnixNano: '1700000000010000000',
    endTimeUnixNano: '1700000000040000000',
  }),
];

function seed(): void {
  const store = new TraceStore(history);
  store.add(SPANS);
  store.close();
}

describe('loom traces', () => {
  it('ls lists the traces the app stored, as a table or JSON', async () => {
    seed();
    const ls = await loom('ls');
    expect(ls.code).toBe(0);
    expect(ls.stdout).toMatch(new RegExp(`^TRACE ID\\s+ROOT\\s+SERVICES\\s+SPANS\\s+ERRORS\\s+DURATION\\s+AGE\\n${TRACE}\\s+agent.step\\s+loom-sandbox,my-agent\\s+2\\s+1\\s+50.0 ms`));
    const json = await loom('ls', '--json');
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ traceId: TRACE, rootName: 'agent.step', spanCount: 2, errorCount: 1, complete: true })]);
  });

  it('show prints the span tree, by id or a unique start of it', async () => {
    seed();
    const show = await loom('show', TRACE.slice(0, 8));
    expect(show.code).toBe(0);
    expect(show.stdout).toBe(`trace ${TRACE}: 2 spans, 1 errors, 50.0 ms\nagent.step (my-agent) 50.0 ms\n└── docker.execute (host) 30.0 ms  ✗ exit code 1\n`);
    const json = JSON.parse((await loom('show', TRACE, '--json')).stdout) as { roots: { span: TraceSpan; children: { span: TraceSpan }[] }[] };
    expect(json.roots).toHaveLength(1);
    expect(json.roots[0]?.span.name).toBe('agent.step');
    expect(json.roots[0]?.children.map((c) => c.span.name)).toEqual(['docker.execute']);
  });

  it('export writes OTLP JSON that import reads back to the same spans', async () => {
    seed();
    const file = join(dir, 'trace.json');
    expect((await loom('export', TRACE, file)).code).toBe(0);
    const exported = JSON.parse(await readFile(file, 'utf8')) as { resourceSpans: { resource: unknown; scopeSpans: { spans: { traceId: string }[] }[] }[] };
    expect(exported.resourceSpans).toHaveLength(2);
    expect(exported.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans.map((x) => x.traceId)))).toEqual([TRACE, TRACE]);
    const stdout = await loom('export', TRACE);
    expect(JSON.parse(stdout.stdout)).toEqual(exported);

    history = join(dir, 'other.sqlite');
    const imported = await loom('import', file);
    expect(imported).toMatchObject({ code: 0, stdout: `imported 2 spans of 1 trace: ${TRACE}\n` });
    const store = new TraceStore(history);
    try {
      expect(store.get(TRACE)?.spans).toEqual(SPANS);
    } finally {
      store.close();
    }
  });

  it('says what is wrong: an unknown id, no store, a file that is not OTLP JSON', async () => {
    seed();
    const unknown = await loom('show', 'ffffffff');
    expect(unknown.code).toBe(125);
    expect(unknown.stderr).toContain("no trace ffffffff in the store ('loom traces ls' lists them)");
    expect((await loom('show', 'not-hex')).stderr).toContain("'not-hex' is not a trace id");
    const notOtlp = join(dir, 'x.json');
    await import('node:fs/promises').then((fs) => fs.writeFile(notOtlp, '{"resourceSpans": {}}'));
    expect((await loom('import', notOtlp)).stderr).toContain('is not an OTLP JSON trace file: resourceSpans must be an array');
    history = join(dir, 'missing.sqlite');
    expect((await loom('ls')).stderr).toContain('does not exist yet');
  });
});
