// Tracing end to end in real containers: the guide's examples give the documented hierarchy,
// spans nest and keep the container's times, errors are marked, floods and huge lines are
// handled, spans arrive live, and traces reach an OTLP collector (or fail quietly).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLocalIndex, type LocalIndex } from '../../../../bench/wheels';
import { RuntimeType, SpanSource, SpanStatus, type ExecuteEvent, type Span } from '../../../../shared/gen/loom/v1/docker_pb';
import { createExecutor, type Executor, type SchedulingExecutor } from '../executor';
import { listPackageImages } from '../packages/package-cache';
import { MemorySink } from './memory-sink';
import { docker, requireEngineAndImages, text } from '../testing/test-support';

let executor: SchedulingExecutor;
const memory = new MemorySink();

beforeAll(async () => {
  await requireEngineAndImages();
  executor = await createExecutor({ traceSinks: [memory], otlpEndpoint: '', minIdlePerConfig: 0 });
});

afterAll(async () => {
  await executor?.close();
});

const py = (code: string) => ({ command: ['python3', '-c', code] });
const node = (code: string) => ({ runtimeType: RuntimeType.NODE, command: ['node', '-e', code] });
const containerSpans = (spans: Span[]) => spans.filter((s) => s.source === SpanSource.CONTAINER);
const rootOf = (spans: Span[]) => spans.find((s) => s.name === 'docker.execute')!;
const byName = (spans: Span[], name: string) => spans.find((s) => s.name === name)!;
/** `child` starts no earlier and ends no later than `parent`. */
const expectWithin = (child: Span, parent: Span): void => {
  expect(child.startTimeUnixNano).toBeGreaterThanOrEqual(parent.startTimeUnixNano);
  expect(child.endTimeUnixNano).toBeLessThanOrEqual(parent.endTimeUnixNano);
};

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

const EXAMPLE_2 = `
const { tracer, traceSpanSync } = require('loom-trace.js');
const fetchUser = () => new Promise((resolve) => setTimeout(() => resolve({ data: JSON.parse('{"login":"octocat","public_repos":8}') }), 20));

async function main() {
  console.log(\`Trace ID: \${tracer.traceId}\`);
  try {
    await traceSpanSync('fetch_user_data', { api: 'github' }, async () => {
      const response = await fetchUser();
      console.log(\`User: \${response.data.login}\`);
      console.log(\`Public repos: \${response.data.public_repos}\`);
    });
  } catch (error) {
    console.error('API call failed:', error.message);
    process.exit(1);
  }
  await traceSpanSync('process_response', {}, async () => {
    console.log('Processing completed');
  });
}

main();
`;

describe('tracing', () => {
  it("gives Example 1 exactly the guide's hierarchy, with the host's trace id inside", async () => {
    const r = await executor.execute(py(EXAMPLE_1));
    expect(r.exitCode).toBe(0);
    expect(text(r.stderr)).toBe('');
    const root = rootOf(r.spans);
    expect(root.source).toBe(SpanSource.HOST);
    expect(root.parentSpanId).toBe('');
    expect(text(r.stdout)).toBe(`Trace ID: ${r.traceId}\nParent Span ID: ${root.spanId}\nSum: 15\nResults saved\n`);
    const inside = containerSpans(r.spans);
    expect(inside.map((s) => s.name)).toEqual(['load_data', 'process_data', 'save_results']);
    for (const s of inside) {
      expect(s.parentSpanId).toBe(root.spanId);
      expect(s.traceId).toBe(r.traceId);
      expect(s.status).toBe(SpanStatus.OK);
    }
    // The phases are host spans under the same root.
    for (const name of ['docker.image', 'docker.container', 'docker.run']) {
      expect(byName(r.spans, name).parentSpanId).toBe(root.spanId);
      expect(byName(r.spans, name).source).toBe(SpanSource.HOST);
      expectWithin(byName(r.spans, name), root);
    }
    // The phases follow one another, and the program's spans lie within its run.
    expect(byName(r.spans, 'docker.image').endTimeUnixNano).toBeLessThanOrEqual(byName(r.spans, 'docker.container').startTimeUnixNano);
    expect(byName(r.spans, 'docker.container').endTimeUnixNano).toBeLessThanOrEqual(byName(r.spans, 'docker.run').startTimeUnixNano);
    for (const s of inside) expectWithin(s, byName(r.spans, 'docker.run'));
    expect(r.spans.every((s) => s.traceId === r.traceId)).toBe(true);
    expect(memory.spans(r.traceId)).toHaveLength(r.spans.length);
  });

  it("gives Example 2 (Node) the guide's hierarchy with its attributes", async () => {
    const r = await executor.execute(node(EXAMPLE_2));
    expect(text(r.stdout)).toBe(`Trace ID: ${r.traceId}\nUser: octocat\nPublic repos: 8\nProcessing completed\n`);
    const root = rootOf(r.spans);
    const inside = containerSpans(r.spans);
    expect(inside.map((s) => [s.name, s.parentSpanId])).toEqual([
      ['fetch_user_data', root.spanId],
      ['process_response', root.spanId],
    ]);
    expect(inside[0]!.attributes).toEqual({ api: 'github' });
    // The container's own times: the 20 ms fetch shows in its span.
    const fetch = inside[0]!;
    expect(Number(fetch.endTimeUnixNano - fetch.startTimeUnixNano) / 1e6).toBeGreaterThanOrEqual(15);
  });

  it('nests spans, and each child lies within its parent in time', async () => {
    const r = await executor.execute(
      py(`
from loom_trace import trace_span
import time
with trace_span("outer", {"level": 1}):
    with trace_span("middle"):
        time.sleep(0.01)
        with trace_span("inner"):
            time.sleep(0.01)
    with trace_span("sibling"):
        pass
`),
    );
    const [outer, middle, inner, sibling] = ['outer', 'middle', 'inner', 'sibling'].map((n) => byName(r.spans, n));
    expect(outer!.parentSpanId).toBe(rootOf(r.spans).spanId);
    expect(middle!.parentSpanId).toBe(outer!.spanId);
    expect(inner!.parentSpanId).toBe(middle!.spanId);
    expect(sibling!.parentSpanId).toBe(outer!.spanId);
    expect(outer!.attributes).toEqual({ level: 1 });
    for (const [child, parent] of [[middle, outer], [inner, middle], [sibling, outer]] as const) {
      expect(child!.startTimeUnixNano).toBeGreaterThanOrEqual(parent!.startTimeUnixNano);
      expect(child!.endTimeUnixNano).toBeLessThanOrEqual(parent!.endTimeUnixNano);
    }
    // And the container's spans lie within the host's run of them.
    const root = rootOf(r.spans);
    expect(outer!.startTimeUnixNano).toBeGreaterThanOrEqual(root.startTimeUnixNano);
    expect(outer!.endTimeUnixNano).toBeLessThanOrEqual(root.endTimeUnixNano);
  });

  it('marks an exception as an error span and leaves the exit code as it was', async () => {
    const uncaught = await executor.execute(py('from loom_trace import trace_span\nwith trace_span("boom"):\n    raise ValueError("bad input")'));
    expect(uncaught.exitCode).toBe(1);
    expect(text(uncaught.stderr)).toContain('ValueError: bad input');
    const boom = byName(uncaught.spans, 'boom');
    expect(boom.status).toBe(SpanStatus.ERROR);
    expect(boom.attributes).toMatchObject({ 'exception.type': 'ValueError', 'exception.message': 'bad input' });
    expect(boom.statusMessage).toContain('bad input');

    const caught = await executor.execute(
      py('import sys\nfrom loom_trace import trace_span\ntry:\n    with trace_span("x"):\n        raise KeyError("k")\nexcept KeyError:\n    sys.exit(3)'),
    );
    expect(caught.exitCode).toBe(3);
    expect(byName(caught.spans, 'x').status).toBe(SpanStatus.ERROR);
  });

  it('keeps span records out of the output, even next to a 1 MB stderr line', async () => {
    const r = await executor.execute({
      ...py(`
import sys
from loom_trace import trace_span
with trace_span("before"):
    pass
sys.stderr.write("e" * (1024 * 1024))
sys.stderr.flush()
with trace_span("after"):
    print("done")
`),
      maxOutputBytes: 2 * 1024 * 1024,
    });
    expect(r.exitCode).toBe(0);
    expect(r.stderr.length).toBe(1024 * 1024);
    expect(text(r.stderr)).toBe('e'.repeat(1024 * 1024));
    expect(text(r.stdout)).toBe('done\n');
    expect(containerSpans(r.spans).map((s) => s.name)).toEqual(['before', 'after']);
  });

  it('counts and drops malformed records, including a 1 MB line in the span channel', async () => {
    const r = await executor.execute(
      py(`
import os
from loom_trace import trace_span
with trace_span("good"):
    pass
fd = os.open(os.environ["LOOM_TRACE_FILE"], os.O_WRONLY | os.O_APPEND)
os.write(fd, b"not json\\n")
os.write(fd, b'{"traceId": "zz"}\\n')
os.write(fd, b"x" * (2 * 1024 * 1024) + b"\\n")
with trace_span("also_good"):
    pass
print("ok")
`),
    );
    expect(text(r.stdout)).toBe('ok\n');
    expect(containerSpans(r.spans).map((s) => s.name)).toEqual(['good', 'also_good']);
    expect(r.malformedSpans).toBe(3);
  });

  it('handles a flood of 100,000 spans without losing output', async () => {
    const started = Date.now();
    const r = await executor.execute({
      ...py(`
from loom_trace import trace_span
for i in range(100000):
    with trace_span("s", {"i": i}):
        pass
print("flooded")
`),
      timeoutSeconds: 120,
    });
    console.log(`100,000 spans: ${Date.now() - started} ms end to end`);
    expect(text(r.stdout)).toBe('flooded\n');
    expect(r.timedOut).toBe(false);
    const inside = containerSpans(r.spans);
    expect(inside).toHaveLength(100_000);
    expect(new Set(inside.map((s) => s.attributes?.['i'])).size).toBe(100_000);
    expect(r.droppedSpans).toBe(0);
    expect(r.malformedSpans).toBe(0);
  });

  it('handles a flood of 20,000 spans from a Node program without loss or spill into stderr', async () => {
    const r = await executor.execute({
      ...node(`
const { traceSpanSync } = require('loom-trace.js');
for (let i = 0; i < 20000; i++) traceSpanSync('n', { i }, () => {});
console.log('flooded');
`),
      timeoutSeconds: 120,
    });
    expect(r.exitCode).toBe(0);
    expect(r.timedOut).toBe(false);
    expect(text(r.stdout)).toBe('flooded\n');
    expect(text(r.stderr)).toBe('');
    const inside = containerSpans(r.spans);
    expect(inside).toHaveLength(20_000);
    expect(new Set(inside.map((s) => s.attributes?.['i'])).size).toBe(20_000);
    const root = rootOf(r.spans);
    expect(inside.every((s) => s.parentSpanId === root.spanId && s.traceId === r.traceId)).toBe(true);
    expect(r.droppedSpans).toBe(0);
    expect(r.malformedSpans).toBe(0);
  });

  it('delivers spans live, while the program still runs', async () => {
    const seen: { at: number; event: ExecuteEvent }[] = [];
    await executor.execute(py('import time\nfrom loom_trace import trace_span\nwith trace_span("early"):\n    pass\ntime.sleep(1.5)'), {
      onEvent: (event) => seen.push({ at: Date.now(), event }),
    });
    const early = seen.find((e) => e.event.event.case === 'spans' && e.event.event.value.spans.some((s) => s.name === 'early'));
    const done = seen.find((e) => e.event.event.case === 'done');
    expect(early).toBeDefined();
    expect(done!.at - early!.at).toBeGreaterThan(1000);
  });

  it('works in a custom image that has node, with no install step', async () => {
    const r = await executor.execute({
      runtimeType: RuntimeType.CUSTOM,
      command: ['node', '-e', "const { traceSpanSync } = require('loom-trace.js'); traceSpanSync('custom_work', { n: 1 }, () => 42)"],
      config: { runtimeType: RuntimeType.CUSTOM, imageSource: { case: 'customImage', value: 'node:20-slim' } },
    });
    expect(r.exitCode).toBe(0);
    expect(containerSpans(r.spans).map((s) => [s.name, s.parentSpanId])).toEqual([['custom_work', rootOf(r.spans).spanId]]);
  });

  it('works in a custom image that has only python3 (python:3.11-slim as CUSTOM), with no install step', async () => {
    const r = await executor.execute({
      runtimeType: RuntimeType.CUSTOM,
      command: ['python3', '-c', 'from loom_trace import trace_span, tracer\nwith trace_span("custom_py", {"n": 1}):\n    print(tracer.trace_id)'],
      config: { runtimeType: RuntimeType.CUSTOM, imageSource: { case: 'customImage', value: 'python:3.11-slim' } },
    });
    expect(text(r.stderr)).toBe('');
    expect(r.exitCode).toBe(0);
    expect(text(r.stdout)).toBe(`${r.traceId}\n`);
    const root = rootOf(r.spans);
    // Really the custom path (another pool, no python-runtime assumptions), on an image with no node.
    expect(root.attributes?.['loom.runtime']).toBe('custom');
    const inside = containerSpans(r.spans);
    expect(inside.map((s) => [s.name, s.parentSpanId, s.attributes])).toEqual([['custom_py', root.spanId, { n: 1 }]]);
    expectWithin(inside[0]!, root);
  });

  // In a fresh interpreter, importing the library alone does not import inspect (1.2 MB and ~7 ms
  // of a traced program's start that only the decorator needs). -B makes the runner start one: a
  // fork would be a child of the forker that has the common modules, inspect among them, imported
  // for a program that imports asyncio.
  it('traces functions, plain and async, with trace_function, and importing it imports no inspect', async () => {
    const program = [
      'import sys',
      'from loom_trace import trace_function',
      "print('inspect' in sys.modules)",
      'import asyncio',
      '@trace_function',
      'def work():',
      '    return 1',
      '@trace_function("async_work")',
      'async def awork():',
      '    return work() + 1',
      'print(asyncio.run(awork()))',
    ].join('\n');
    const r = await executor.execute({
      runtimeType: RuntimeType.CUSTOM,
      command: ['python3', '-B', '-c', program],
      config: { runtimeType: RuntimeType.CUSTOM, imageSource: { case: 'customImage', value: 'python:3.11-slim' } },
    });
    expect([r.exitCode, text(r.stdout), text(r.stderr)]).toEqual([0, 'False\n2\n', '']);
    const inside = containerSpans(r.spans);
    const outer = inside.find((s) => s.name === 'async_work');
    expect(outer?.parentSpanId).toBe(rootOf(r.spans).spanId);
    expect(inside.filter((s) => s !== outer).map((s) => [s.name, s.parentSpanId])).toEqual([['work', outer?.spanId]]);
  });

  it('traces executions that fail before the program runs', async () => {
    const before = memory.traces().length;
    await executor.execute({ command: ['no-such-program'] }).catch(() => undefined);
    const traces = memory.traces();
    expect(traces.length).toBe(before + 1);
  });
});

describe('tracing with packages installed', () => {
  // A name of this file's own: the derived image it makes is removed after, and no other
  // test's cached image can skip the install step this checks.
  const PKG = 'loomtracepkg';
  let index: LocalIndex | undefined;
  let withPackages: Executor;

  beforeAll(async () => {
    index = buildLocalIndex([{ name: PKG, version: '1.0', value: 'from the local index' }]);
    withPackages = await createExecutor({ packageSources: { pipIndexUrl: index.index }, minIdlePerConfig: 0, otlpEndpoint: '' });
  });

  afterAll(async () => {
    await withPackages?.close();
    for (const image of await listPackageImages(docker)) {
      if (!image.packages.includes(`${PKG}==1.0`)) continue;
      await docker
        .getImage(image.id)
        .remove()
        .catch((err: { statusCode?: number }) => {
          if (err.statusCode !== 409 && err.statusCode !== 404) throw err;
        });
    }
    index?.remove();
  });

  it('traces the install as docker.packages under docker.execute, and marks cold and warm starts', async () => {
    const program = py(`import ${PKG}\nfrom loom_trace import trace_span\nwith trace_span("uses_package", {"value": ${PKG}.VALUE}):\n    print(${PKG}.VALUE)`);
    const config = { packages: [`${PKG}==1.0`] };

    const cold = await withPackages.execute({ ...program, config });
    expect(text(cold.stderr)).toBe('');
    expect(text(cold.stdout)).toBe('from the local index\n');
    expect(cold.containerCreated).toBe(true);
    const root = rootOf(cold.spans);
    const install = byName(cold.spans, 'docker.packages');
    expect(install.parentSpanId).toBe(root.spanId);
    expect(install.traceId).toBe(cold.traceId);
    expect(install.source).toBe(SpanSource.HOST);
    expect(install.status).toBe(SpanStatus.OK);
    expect(install.attributes).toMatchObject({ 'loom.packages': `${PKG}==1.0` });
    expectWithin(install, root);
    // Installed while the container was being made, before the program ran.
    const acquiring = byName(cold.spans, 'docker.container');
    expectWithin(install, acquiring);
    expect(install.endTimeUnixNano).toBeLessThanOrEqual(byName(cold.spans, 'docker.run').startTimeUnixNano);
    expect(cold.timings?.packagesMs).toBeCloseTo(Number(install.endTimeUnixNano - install.startTimeUnixNano) / 1e6, 3);
    expect(acquiring.attributes).toMatchObject({ 'loom.cold_start': true });
    // The program's spans still nest under the root, with the installed package at hand.
    const inside = containerSpans(cold.spans);
    expect(inside.map((s) => [s.name, s.parentSpanId, s.attributes])).toEqual([['uses_package', root.spanId, { value: 'from the local index' }]]);
    expectWithin(inside[0]!, byName(cold.spans, 'docker.run'));

    const warm = await withPackages.execute({ ...program, config });
    expect(text(warm.stdout)).toBe('from the local index\n');
    expect(warm.containerCreated).toBe(false);
    expect(warm.containerId).toBe(cold.containerId);
    expect(warm.spans.map((s) => s.name)).not.toContain('docker.packages');
    expect(byName(warm.spans, 'docker.container').attributes).toMatchObject({ 'loom.cold_start': false });
    expect(containerSpans(warm.spans).map((s) => [s.name, s.parentSpanId])).toEqual([['uses_package', rootOf(warm.spans).spanId]]);
  });
});

describe('OTLP export', () => {
  let server: Server;
  let received: unknown[] = [];
  let paths: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        paths.push(req.url ?? '');
        received.push(JSON.parse(body));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  type OtlpSpan = { traceId: string; spanId: string; parentSpanId?: string; name: string; startTimeUnixNano: string; attributes: { key: string }[] };
  const receivedSpans = (): OtlpSpan[] =>
    (received as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] }[]).flatMap((p) =>
      p.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)),
    );

  it('sends the whole trace, host and container spans, to a collector', async () => {
    received = [];
    const { port } = server.address() as AddressInfo;
    const exporting = await createExecutor({ scheduler: executor.scheduler, otlpEndpoint: `http://127.0.0.1:${port}` });
    const r = await exporting.execute(py('from loom_trace import trace_span\nwith trace_span("exported", {"k": "v"}):\n    pass'));
    await exporting.close();
    const spans = receivedSpans();
    expect(spans.map((s) => s.name).sort()).toEqual(r.spans.map((s) => s.name).sort());
    const exported = spans.find((s) => s.name === 'exported')!;
    const original = byName(r.spans, 'exported');
    expect(exported.traceId).toBe(r.traceId);
    expect(exported.parentSpanId).toBe(rootOf(r.spans).spanId);
    expect(exported.startTimeUnixNano).toBe(String(original.startTimeUnixNano));
  });

  it('exports to OTEL_EXPORTER_OTLP_ENDPOINT when no endpoint is given', async () => {
    received = [];
    paths = [];
    const { port } = server.address() as AddressInfo;
    // The traces-specific variable would win over the general one: unset it for the test.
    const saved = { base: process.env.OTEL_EXPORTER_OTLP_ENDPOINT, traces: process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT };
    const restore = (name: string, value: string | undefined): void => {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    };
    let r: Awaited<ReturnType<Executor['execute']>>;
    try {
      delete process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
      process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${port}/`;
      const exporting = await createExecutor({ scheduler: executor.scheduler });
      try {
        r = await exporting.execute(py('from loom_trace import trace_span\nwith trace_span("from_env"):\n    pass'));
      } finally {
        await exporting.close();
      }
    } finally {
      restore('OTEL_EXPORTER_OTLP_ENDPOINT', saved.base);
      restore('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', saved.traces);
    }
    // The general variable is a base URL: the exporter posts to its /v1/traces.
    expect(paths.length).toBeGreaterThan(0);
    expect(new Set(paths)).toEqual(new Set(['/v1/traces']));
    const spans = receivedSpans();
    expect(spans.map((s) => s.name).sort()).toEqual(r.spans.map((s) => s.name).sort());
    expect(spans.every((s) => s.traceId === r.traceId)).toBe(true);
    expect(spans.find((s) => s.name === 'from_env')?.parentSpanId).toBe(rootOf(r.spans).spanId);
  });

  it('does not slow or fail an execution when the collector is down', async () => {
    const down = await createExecutor({ scheduler: executor.scheduler, otlpEndpoint: 'http://127.0.0.1:1' });
    const started = Date.now();
    const r = await down.execute(py('print("still fine")'));
    expect(Date.now() - started).toBeLessThan(3000);
    expect(text(r.stdout)).toBe('still fine\n');
    await down.close();
  });
});
