// The in-container trace libraries (resources/trace/python/loom_trace.py and
// resources/trace/node/loom-trace.js), exercised in real locked-down containers: nobody user,
// read-only root, /tmp as the only writable place, no network, the library bind-mounted read-only.
import Docker from 'dockerode';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const docker = new Docker();

const PYTHON_IMAGE = 'python:3.11-slim';
const NODE_IMAGE = 'node:20-slim';
const PY_LIB = fileURLToPath(new URL('./python', import.meta.url));
const NODE_LIB = fileURLToPath(new URL('./node', import.meta.url));
const PY_TARGET = '/opt/loom/lib/python';
const NODE_TARGET = '/opt/loom/lib/node';
const SPAN_FILE = '/tmp/spans.jsonl';
const RUN_DEADLINE_MS = 60_000;

const RECORD_KEYS = [
  'traceId',
  'spanId',
  'parentSpanId',
  'name',
  'startTimeUnixNano',
  'endTimeUnixNano',
  'attributes',
  'status',
  'statusMessage',
];

interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Record<string, unknown>;
  status: 'ok' | 'error' | 'unset';
  statusMessage: string;
}

interface RunResult {
  /** The program's own stdout (before the span dump). */
  stdout: string;
  stderr: string;
  exitCode: number;
  /** Raw lines of the span file. */
  lines: string[];
  spans: SpanRecord[];
  /** `name mode uid` of everything left in /tmp. */
  tmp: string[];
  ms: number;
}

type Lang = 'python' | 'node';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** Environment as the host sets it: W3C TRACEPARENT plus the guide's LOOM_* variables. */
function traceEnv(traceId = hex(16), spanId = hex(8)) {
  return {
    traceId,
    spanId,
    env: {
      TRACEPARENT: `00-${traceId}-${spanId}-01`,
      LOOM_TRACE_ID: traceId,
      LOOM_SPAN_ID: spanId,
      LOOM_TRACE_FILE: SPAN_FILE,
    } as Record<string, string | undefined>,
  };
}

/** Docker's multiplexed log stream: 8-byte headers (stream, 0, 0, 0, size BE) then the payload. */
function demux(buf: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let off = 0;
  while (off + 8 <= buf.length) {
    const kind = buf[off];
    const size = buf.readUInt32BE(off + 4);
    const payload = buf.subarray(off + 8, off + 8 + size);
    (kind === 2 ? err : out).push(payload);
    off += 8 + size;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

const SPANS_MARK = '===SPANS===\n';
const TMP_MARK = '===TMP===\n';

async function run(lang: Lang, program: string, env: Record<string, string | undefined>): Promise<RunResult> {
  const runCmd = lang === 'python' ? 'python3 -c "$PROG"' : 'node -e "$PROG"';
  const script =
    `${runCmd}; code=$?; echo "===SPANS==="; cat ${SPAN_FILE} 2>/dev/null; echo "===TMP==="; ` +
    `for f in /tmp/* /tmp/.[!.]*; do [ -e "$f" ] && stat -c '%n %a %u' "$f"; done; exit $code`;
  const libEnv = lang === 'python' ? `PYTHONPATH=${PY_TARGET}` : `NODE_PATH=${NODE_TARGET}`;
  const envList = Object.entries(env)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${v}`);
  const container = await docker.createContainer({
    Image: lang === 'python' ? PYTHON_IMAGE : NODE_IMAGE,
    Cmd: ['sh', '-c', script],
    Env: [...envList, libEnv, `PROG=${program}`],
    User: '65534:65534',
    Tty: false,
    NetworkDisabled: true,
    HostConfig: {
      AutoRemove: false,
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': 'rw,size=64m,mode=1777' },
      NetworkMode: 'none',
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Mounts: [
        {
          Type: 'bind',
          Source: lang === 'python' ? PY_LIB : NODE_LIB,
          Target: lang === 'python' ? PY_TARGET : NODE_TARGET,
          ReadOnly: true,
        },
      ],
    },
  });
  try {
    const t0 = performance.now();
    await container.start();
    // A hung program must fail the test, not the whole run: kill it after a deadline.
    const deadline = setTimeout(() => void container.kill().catch(() => undefined), RUN_DEADLINE_MS);
    const { StatusCode } = (await container.wait().finally(() => clearTimeout(deadline))) as { StatusCode: number };
    expect(performance.now() - t0, 'the program hung and was killed').toBeLessThan(RUN_DEADLINE_MS);
    const ms = performance.now() - t0;
    const logs = await container.logs({ stdout: true, stderr: true, follow: false });
    const { stdout: all, stderr } = demux(logs);
    const spansAt = all.lastIndexOf(SPANS_MARK);
    const tmpAt = all.lastIndexOf(TMP_MARK);
    expect(spansAt, `no span marker in output:\n${all}\n${stderr}`).toBeGreaterThanOrEqual(0);
    const lines = all
      .slice(spansAt + SPANS_MARK.length, tmpAt)
      .split('\n')
      .filter((l) => l !== '');
    return {
      stdout: all.slice(0, spansAt),
      stderr,
      exitCode: StatusCode,
      lines,
      spans: lines.map((l) => JSON.parse(l) as SpanRecord),
      tmp: all
        .slice(tmpAt + TMP_MARK.length)
        .split('\n')
        .filter((l) => l !== ''),
      ms,
    };
  } finally {
    await container.remove({ force: true });
  }
}

const ns = (s: string) => BigInt(s);

function byName(spans: SpanRecord[], name: string, attrs: Record<string, unknown> = {}): SpanRecord {
  const found = spans.filter((s) => s.name === name && Object.entries(attrs).every(([k, v]) => s.attributes[k] === v));
  expect(found, `exactly one span ${name} ${JSON.stringify(attrs)} in ${JSON.stringify(spans, null, 1)}`).toHaveLength(1);
  return found[0]!;
}

/** Every record has exactly the agreed fields, in order, with well-formed values. */
function expectWellFormed(spans: SpanRecord[], traceId: string) {
  for (const s of spans) {
    expect(Object.keys(s)).toEqual(RECORD_KEYS);
    expect(s.traceId).toBe(traceId);
    expect(s.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(s.parentSpanId).toMatch(/^([0-9a-f]{16})?$/);
    expect(s.startTimeUnixNano).toMatch(/^[1-9][0-9]{18}$/);
    expect(s.endTimeUnixNano).toMatch(/^[1-9][0-9]{18}$/);
    expect(ns(s.endTimeUnixNano)).toBeGreaterThanOrEqual(ns(s.startTimeUnixNano));
    expect(['ok', 'error', 'unset']).toContain(s.status);
    expect(typeof s.statusMessage).toBe('string');
  }
  expect(new Set(spans.map((s) => s.spanId)).size).toBe(spans.length);
}

/** child is a direct child of parent and lies within it in time. */
function expectNested(child: SpanRecord, parent: SpanRecord) {
  expect(child.parentSpanId).toBe(parent.spanId);
  expect(ns(child.startTimeUnixNano)).toBeGreaterThanOrEqual(ns(parent.startTimeUnixNano));
  expect(ns(child.endTimeUnixNano)).toBeLessThanOrEqual(ns(parent.endTimeUnixNano));
}

function expectNoSpanFile(r: RunResult) {
  expect(r.lines).toEqual([]);
  expect(r.tmp).toEqual([]);
}

beforeAll(async () => {
  await docker.ping();
  for (const image of [PYTHON_IMAGE, NODE_IMAGE]) await docker.getImage(image).inspect();
});

describe('python loom_trace', () => {
  it('example 1: three sibling spans under the host span, tracer shows the host ids', async () => {
    const { traceId, spanId, env } = traceEnv();
    const r = await run(
      'python',
      `
from loom_trace import tracer, trace_span
import statistics

def main():
    print(f"Trace ID: {tracer.trace_id}")
    print(f"Parent Span ID: {tracer.parent_span_id}")

    with trace_span("load_data"):
        data = {"col": [1, 2, 3, 4, 5]}

    with trace_span("process_data"):
        result = sum(data["col"])
        print(f"Sum: {result} mean: {statistics.mean(data['col'])}")

    with trace_span("save_results"):
        print("Results saved")

if __name__ == "__main__":
    main()
`,
      env,
    );
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(`Trace ID: ${traceId}\nParent Span ID: ${spanId}\nSum: 15 mean: 3\nResults saved\n`);
    expectWellFormed(r.spans, traceId);
    expect(r.spans.map((s) => s.name)).toEqual(['load_data', 'process_data', 'save_results']);
    for (const s of r.spans) {
      expect(s.parentSpanId).toBe(spanId);
      expect(s.status).toBe('ok');
      expect(s.statusMessage).toBe('');
      expect(s.attributes).toEqual({});
    }
    for (let i = 1; i < r.spans.length; i++) {
      expect(ns(r.spans[i]!.startTimeUnixNano)).toBeGreaterThanOrEqual(ns(r.spans[i - 1]!.endTimeUnixNano));
    }
    expect(r.tmp).toEqual([`${SPAN_FILE} 600 65534`]);
  });

  it('nests three deep, keeps timestamps inside the parent, converts attributes', async () => {
    const { traceId, spanId, env } = traceEnv();
    const r = await run(
      'python',
      `
import time
from loom_trace import tracer, trace_span
assert tracer.current_span() is None
with trace_span("outer", {"level": 1}) as outer:
    time.sleep(0.002)
    with trace_span("middle", {"level": 2}) as middle:
        assert tracer.current_span() is middle
        with trace_span("inner") as inner:
            inner.set_attribute("s", "x")
            inner.set_attribute("i", 3)
            inner.set_attribute("f", 1.5)
            inner.set_attribute("b", True)
            inner.set_attribute("l", [1, "a", False])
            inner.set_attribute("none", None)
            inner.set_attribute(7, {"d": 1})
            inner.set_attribute("nan", float("nan"))
            print(inner.span_id)
        assert tracer.current_span() is middle
    time.sleep(0.002)
assert tracer.current_span() is None
`,
      env,
    );
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expectWellFormed(r.spans, traceId);
    expect(r.spans.map((s) => s.name)).toEqual(['inner', 'middle', 'outer']);
    const [inner, middle, outer] = r.spans as [SpanRecord, SpanRecord, SpanRecord];
    expect(outer.parentSpanId).toBe(spanId);
    expectNested(middle, outer);
    expectNested(inner, middle);
    expect(r.stdout.trim()).toBe(inner.spanId);
    expect(outer.attributes).toEqual({ level: 1 });
    expect(inner.attributes).toEqual({ s: 'x', i: 3, f: 1.5, b: true, l: [1, 'a', false], none: 'None', '7': "{'d': 1}", nan: 'nan' });
  });

  it('an uncaught exception: error span, traceback and exit code 1 unchanged', async () => {
    const { traceId, env } = traceEnv();
    const r = await run(
      'python',
      `
from loom_trace import trace_span
with trace_span("outer"):
    with trace_span("boom", {"step": "parse"}):
        raise ValueError("bad input")
`,
      env,
    );
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/Traceback[\s\S]*ValueError: bad input\n$/);
    expectWellFormed(r.spans, traceId);
    const boom = byName(r.spans, 'boom');
    expect(boom.status).toBe('error');
    expect(boom.statusMessage).toBe('ValueError: bad input');
    expect(boom.attributes).toEqual({ step: 'parse', 'exception.type': 'ValueError', 'exception.message': 'bad input' });
    expect(byName(r.spans, 'outer').status).toBe('error');
  });

  it('a caught exception is the same object; sys.exit(3) gives exit code 3', async () => {
    const { traceId, env } = traceEnv();
    const r = await run(
      'python',
      `
import sys
from loom_trace import trace_span, trace_function
err = KeyError("k")

@trace_function
def failing():
    raise err

try:
    with trace_span("outer"):
        failing()
except KeyError as e:
    print("same", e is err)
    with trace_span("exit-zero-is-fine"):
        pass
    sys.exit(3)
`,
      env,
    );
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toBe('same True\n');
    expect(r.stderr).toBe('');
    expectWellFormed(r.spans, traceId);
    const failing = byName(r.spans, 'failing');
    expect(failing.status).toBe('error');
    expect(failing.attributes).toEqual({ 'exception.type': 'KeyError', 'exception.message': "'k'" });
    expect(failing.statusMessage).toBe("KeyError: 'k'");
    expectNested(failing, byName(r.spans, 'outer'));
    expect(byName(r.spans, 'exit-zero-is-fine').status).toBe('ok');
  });

  it('sys.exit inside a span keeps its exit code; exit 0 is not an error', async () => {
    const { traceId, env } = traceEnv();
    const r = await run(
      'python',
      `
import sys
from loom_trace import trace_span
try:
    with trace_span("clean-exit"):
        sys.exit(0)
except SystemExit:
    pass
with trace_span("exit-4"):
    sys.exit(4)
`,
      env,
    );
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toBe('');
    expectWellFormed(r.spans, traceId);
    expect(byName(r.spans, 'clean-exit').status).toBe('ok');
    const exit4 = byName(r.spans, 'exit-4');
    expect(exit4.status).toBe('error');
    expect(exit4.statusMessage).toBe('SystemExit: 4');
  });

  it('trace_function (sync and async), asyncio.gather, threads with a copied context, fork', async () => {
    const { traceId, spanId, env } = traceEnv();
    const r = await run(
      'python',
      `
import asyncio, contextvars, os, signal, sys, threading
from loom_trace import tracer, trace_span, trace_function

@trace_function
def sync_work(x):
    return x * 2

@trace_function("async_named", attributes={"kind": "async"})
async def async_work(tag, delay):
    tracer.current_span().set_attribute("tag", tag)
    await asyncio.sleep(delay)
    with trace_span("child", {"tag": tag}):
        await asyncio.sleep(delay)
    return tag

class Worker:
    @trace_function()
    def method(self):
        return tracer.current_span().name

async def main():
    with trace_span("gather"):
        return await asyncio.gather(async_work("a", 0.03), async_work("b", 0.01))

print("results", asyncio.run(main()), sync_work(21), async_work.__name__, Worker().method())

with trace_span("thread-parent"):
    ctx = contextvars.copy_context()
    def in_thread():
        with trace_span("in-thread"):
            pass
    t = threading.Thread(target=ctx.run, args=(in_thread,))
    t.start()
    t.join()

# Forking: a span opened before the fork is recorded once (by the parent), even though the
# child's sys.exit unwinds it too; and a child forked while another thread holds the span-file
# lock must not deadlock on it (a stuck child dies of SIGALRM: status 14).
import loom_trace
held, release = threading.Event(), threading.Event()
def hold_lock():
    with loom_trace._sink.lock:
        held.set()
        release.wait()
holder = threading.Thread(target=hold_lock)
holder.start()
held.wait()
statuses = []
sys.stdout.flush()
with trace_span("before-fork"):
    for i in range(5):
        pid = os.fork()
        if pid == 0:
            signal.alarm(5)
            with trace_span("in-child", {"i": i}):
                pass
            sys.exit(0)
        statuses.append(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
    release.set()  # before-fork's own record needs the lock
    holder.join()
print("children", statuses)
`,
      env,
    );
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(
      "results ['a', 'b'] 42 async_work Worker.method\nchildren [0, 0, 0, 0, 0]\n",
    );
    expectWellFormed(r.spans, traceId);
    const gather = byName(r.spans, 'gather');
    expect(gather.parentSpanId).toBe(spanId);
    for (const [tag, delay] of [
      ['a', 0.03],
      ['b', 0.01],
    ] as const) {
      const task = byName(r.spans, 'async_named', { tag });
      expect(task.attributes.kind).toBe('async');
      expectNested(task, gather);
      expectNested(byName(r.spans, 'child', { tag }), task);
      // the span covers the awaited body, not just the creation of the coroutine
      expect(ns(task.endTimeUnixNano) - ns(task.startTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(Math.round(2 * delay * 1e9)));
    }
    expect(byName(r.spans, 'sync_work').parentSpanId).toBe(spanId);
    expect(byName(r.spans, 'Worker.method').status).toBe('ok');
    expectNested(byName(r.spans, 'in-thread'), byName(r.spans, 'thread-parent'));
    const beforeFork = byName(r.spans, 'before-fork');
    for (let i = 0; i < 5; i++) expectNested(byName(r.spans, 'in-child', { i }), beforeFork);
  });

  it('without LOOM_TRACE_FILE, or with an unwritable one, runs silently', async () => {
    const program = `
from loom_trace import tracer, trace_span, trace_function
@trace_function
def f():
    raise RuntimeError("x")
with trace_span("a", {"k": 1}) as s:
    s.set_attribute("v", object())
    try:
        f()
    except RuntimeError:
        pass
print("done", len(tracer.trace_id))
`;
    const { env } = traceEnv();
    for (const file of [undefined, `${PY_TARGET}/spans.jsonl`, '/tmp/missing-dir/spans.jsonl', '/proc/nope']) {
      const r = await run('python', program, { ...env, LOOM_TRACE_FILE: file });
      expect(r.stdout, String(file)).toBe('done 32\n');
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
      expectNoSpanFile(r);
    }
  });

  it('trace context: TRACEPARENT wins over LOOM_*; with neither, a random trace id and no parent', async () => {
    const program = `
from loom_trace import tracer, trace_span
with trace_span("s"):
    pass
print(tracer.trace_id, repr(tracer.parent_span_id))
`;
    const a = traceEnv();
    const b = traceEnv();
    const mixed = await run('python', program, { ...a.env, LOOM_TRACE_ID: b.traceId, LOOM_SPAN_ID: b.spanId });
    expect(mixed.stdout).toBe(`${a.traceId} '${a.spanId}'\n`);
    expect(mixed.spans[0]).toMatchObject({ traceId: a.traceId, parentSpanId: a.spanId });

    const onlyLoom = await run('python', program, { ...b.env, TRACEPARENT: undefined });
    expect(onlyLoom.spans[0]).toMatchObject({ traceId: b.traceId, parentSpanId: b.spanId });

    const none = await run('python', program, { LOOM_TRACE_FILE: SPAN_FILE });
    expect(none.stdout).toMatch(/^[0-9a-f]{32} ''\n$/);
    expect(none.spans).toHaveLength(1);
    expect(none.spans[0]!.traceId).toBe(none.stdout.slice(0, 32));
    expect(none.spans[0]!.parentSpanId).toBe('');
  });

  it('10,000 spans: 10,000 valid JSON lines', async () => {
    const { traceId, spanId, env } = traceEnv();
    const r = await run(
      'python',
      `
import time
from loom_trace import trace_span
t0 = time.perf_counter()
for i in range(10000):
    with trace_span("iter", {"i": i}):
        pass
print("%.1f" % ((time.perf_counter() - t0) * 1000))
`,
      env,
    );
    expect(r.exitCode).toBe(0);
    expect(r.lines).toHaveLength(10_000);
    const seen = new Set(r.spans.map((s) => s.attributes.i));
    expect(seen.size).toBe(10_000);
    expect(r.spans.every((s) => s.traceId === traceId && s.parentSpanId === spanId && s.status === 'ok')).toBe(true);
    console.log(`python: 10,000 spans in ${r.stdout.trim()} ms inside the container (container run ${r.ms.toFixed(0)} ms)`);
  });
});

describe('node loom-trace.js', () => {
  it('example 1 shape: three sibling spans under the host span, tracer shows the host ids', async () => {
    const { traceId, spanId, env } = traceEnv();
    const r = await run(
      'node',
      `
const { tracer, traceSpan, traceSpanSync } = require('loom-trace.js');
async function main() {
  console.log(\`Trace ID: \${tracer.traceId}\`);
  console.log(\`Parent Span ID: \${tracer.parentSpanId}\`);
  const data = await traceSpan('load_data', async () => ({ col: [1, 2, 3, 4, 5] }));
  const sum = traceSpanSync('process_data', {}, () => data.col.reduce((a, b) => a + b, 0));
  console.log(\`Sum: \${sum}\`);
  await traceSpan('save_results', {}, () => console.log('Results saved'));
}
main();
`,
      env,
    );
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(`Trace ID: ${traceId}\nParent Span ID: ${spanId}\nSum: 15\nResults saved\n`);
    expectWellFormed(r.spans, traceId);
    expect(r.spans.map((s) => s.name)).toEqual(['load_data', 'process_data', 'save_results']);
    for (const s of r.spans) {
      expect(s.parentSpanId).toBe(spanId);
      expect(s.status).toBe('ok');
      expect(s.statusMessage).toBe('');
    }
    for (let i = 1; i < r.spans.length; i++) {
      expect(ns(r.spans[i]!.startTimeUnixNano)).toBeGreaterThanOrEqual(ns(r.spans[i - 1]!.endTimeUnixNano));
    }
    expect(r.tmp).toEqual([`${SPAN_FILE} 600 65534`]);
  });

  it('nests three deep, keeps timestamps inside the parent, converts attributes', async () => {
    const { traceId, spanId, env } = traceEnv();
    const r = await run(
      'node',
      `
const assert = require('assert');
const { tracer, traceSpan, traceSpanSync } = require('loom-trace.js');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
assert.strictEqual(tracer.currentSpan(), null);
traceSpan('outer', { level: 1 }, async (outer) => {
  await sleep(2);
  await traceSpan('middle', { level: 2 }, async (middle) => {
    assert.strictEqual(tracer.currentSpan(), middle);
    traceSpanSync('inner', (inner) => {
      inner.setAttribute('s', 'x').setAttribute('i', 3).setAttribute('f', 1.5).setAttribute('b', true);
      inner.setAttribute('l', [1, 'a', false, { o: 1 }]);
      inner.setAttribute('null', null).setAttribute('obj', { d: 1 }).setAttribute('big', 12345678901234567890n);
      inner.setAttribute('nan', NaN);
      console.log(inner.spanId);
    });
    assert.strictEqual(tracer.currentSpan(), middle);
  });
  assert.strictEqual(tracer.currentSpan(), outer);
  await sleep(2);
}).then(() => assert.strictEqual(tracer.currentSpan(), null));
`,
      env,
    );
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    expectWellFormed(r.spans, traceId);
    expect(r.spans.map((s) => s.name)).toEqual(['inner', 'middle', 'outer']);
    const [inner, middle, outer] = r.spans as [SpanRecord, SpanRecord, SpanRecord];
    expect(outer.parentSpanId).toBe(spanId);
    expectNested(middle, outer);
    expectNested(inner, middle);
    expect(r.stdout.trim()).toBe(inner.spanId);
    expect(inner.attributes).toEqual({
      s: 'x',
      i: 3,
      f: 1.5,
      b: true,
      l: [1, 'a', false, '[object Object]'],
      null: 'null',
      obj: '[object Object]',
      big: '12345678901234567890',
      nan: 'NaN',
    });
  });

  it('an uncaught throw: error span, stack trace and exit code 1 unchanged', async () => {
    const { traceId, env } = traceEnv();
    const r = await run(
      'node',
      `
const { traceSpanSync } = require('loom-trace.js');
traceSpanSync('outer', () => {
  traceSpanSync('boom', { step: 'parse' }, () => { throw new TypeError('bad input'); });
});
`,
      env,
    );
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('TypeError: bad input');
    expectWellFormed(r.spans, traceId);
    const boom = byName(r.spans, 'boom');
    expect(boom.status).toBe('error');
    expect(boom.statusMessage).toBe('TypeError: bad input');
    expect(boom.attributes).toEqual({ step: 'parse', 'exception.type': 'TypeError', 'exception.message': 'bad input' });
    expect(byName(r.spans, 'outer').status).toBe('error');
  });

  it('an unhandled rejection: error span and exit code 1', async () => {
    const { traceId, env } = traceEnv();
    const r = await run(
      'node',
      `
const { traceSpan } = require('loom-trace.js');
traceSpan('rejects', async () => { await null; throw new RangeError('too far'); });
`,
      env,
    );
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('RangeError: too far');
    expectWellFormed(r.spans, traceId);
    expect(byName(r.spans, 'rejects')).toMatchObject({ status: 'error', statusMessage: 'RangeError: too far' });
  });

  it('a caught error is the same object; process.exit(3) gives exit code 3; open spans are kept', async () => {
    const { traceId, spanId, env } = traceEnv();
    const r = await run(
      'node',
      `
const { traceSpan, traceSpanSync } = require('loom-trace.js');
const err = new Error('nope');
async function main() {
  try {
    await traceSpan('outer', async () => { await traceSpan('failing', async () => { throw err; }); });
  } catch (e) {
    console.log('same', e === err);
  }
  try { traceSpanSync('throws-string', () => { throw 'plain'; }); } catch (e) { console.log('caught', e); }
  await traceSpan('still-open', async () => { process.exit(3); });
}
main();
`,
      env,
    );
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toBe('same true\ncaught plain\n');
    expect(r.stderr).toBe('');
    expectWellFormed(r.spans, traceId);
    const failing = byName(r.spans, 'failing');
    expect(failing).toMatchObject({ status: 'error', statusMessage: 'Error: nope' });
    expect(failing.attributes).toEqual({ 'exception.type': 'Error', 'exception.message': 'nope' });
    expectNested(failing, byName(r.spans, 'outer'));
    expect(byName(r.spans, 'throws-string')).toMatchObject({ status: 'error', statusMessage: 'string: plain' });
    // process.exit inside a span: recorded at exit with status "unset" rather than lost
    expect(byName(r.spans, 'still-open')).toMatchObject({ status: 'unset', parentSpanId: spanId });
  });

  it('Promise.all keeps parents apart; traceSpanSync with an async fn (example 2) records the rejection', async () => {
    const { traceId, spanId, env } = traceEnv();
    const r = await run(
      'node',
      `
const { tracer, traceSpan, traceSpanSync } = require('loom-trace.js');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function worker(tag, ms) {
  return traceSpan('worker', { tag }, async () => {
    await sleep(ms);
    await traceSpan('child', { tag }, async () => { await sleep(ms); });
    return tag;
  });
}
async function main() {
  console.log(\`Trace ID: \${tracer.traceId}\`);
  const results = await traceSpan('all', () => Promise.all([worker('a', 30), worker('b', 10)]));
  console.log('results', results.join(','));
  try {
    await traceSpanSync('fetch_user_data', { api: 'github' }, async () => {
      await sleep(5);
      throw new Error('getaddrinfo ENOTFOUND api.github.com');
    });
  } catch (error) {
    console.error('API call failed:', error.message);
  }
  await traceSpanSync('process_response', {}, async () => {
    console.log('Processing completed');
  });
  const value = traceSpanSync('sync_value', () => 42);
  console.log('sync', value);
}
main();
`,
      env,
    );
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(`Trace ID: ${traceId}\nresults a,b\nProcessing completed\nsync 42\n`);
    expect(r.stderr).toBe('API call failed: getaddrinfo ENOTFOUND api.github.com\n');
    expectWellFormed(r.spans, traceId);
    const all = byName(r.spans, 'all');
    expect(all.parentSpanId).toBe(spanId);
    for (const [tag, ms] of [
      ['a', 30],
      ['b', 10],
    ] as const) {
      const w = byName(r.spans, 'worker', { tag });
      expectNested(w, all);
      expectNested(byName(r.spans, 'child', { tag }), w);
      expect(ns(w.endTimeUnixNano) - ns(w.startTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(2 * ms * 1e6 - 2e6));
    }
    const fetch = byName(r.spans, 'fetch_user_data');
    expect(fetch).toMatchObject({ status: 'error', parentSpanId: spanId, statusMessage: 'Error: getaddrinfo ENOTFOUND api.github.com' });
    expect(fetch.attributes).toEqual({ api: 'github', 'exception.type': 'Error', 'exception.message': 'getaddrinfo ENOTFOUND api.github.com' });
    expect(ns(fetch.endTimeUnixNano) - ns(fetch.startTimeUnixNano)).toBeGreaterThanOrEqual(4_000_000n);
    expect(byName(r.spans, 'process_response').status).toBe('ok');
    expect(byName(r.spans, 'sync_value').status).toBe('ok');
  });

  it('without LOOM_TRACE_FILE, or with an unwritable one, runs silently', async () => {
    const program = `
const { tracer, traceSpan, traceSpanSync } = require('loom-trace.js');
traceSpan('a', { k: 1 }, async (s) => {
  s.setAttribute('v', Symbol('x'));
  try { traceSpanSync('f', () => { throw new Error('x'); }); } catch {}
  await traceSpan('b', () => 1).catch(() => {});
}).then(() => console.log('done', tracer.traceId.length));
`;
    const { env } = traceEnv();
    for (const file of [undefined, `${NODE_TARGET}/spans.jsonl`, '/tmp/missing-dir/spans.jsonl', '/proc/nope']) {
      const r = await run('node', program, { ...env, LOOM_TRACE_FILE: file });
      expect(r.stdout, String(file)).toBe('done 32\n');
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
      expectNoSpanFile(r);
    }
  });

  it('trace context: TRACEPARENT wins over LOOM_*; with neither, a random trace id and no parent', async () => {
    const program = `
const { tracer, traceSpanSync } = require('loom-trace.js');
traceSpanSync('s', () => {});
console.log(tracer.traceId, JSON.stringify(tracer.parentSpanId));
`;
    const a = traceEnv();
    const b = traceEnv();
    const mixed = await run('node', program, { ...a.env, LOOM_TRACE_ID: b.traceId, LOOM_SPAN_ID: b.spanId });
    expect(mixed.stdout).toBe(`${a.traceId} "${a.spanId}"\n`);
    expect(mixed.spans[0]).toMatchObject({ traceId: a.traceId, parentSpanId: a.spanId });

    const onlyLoom = await run('node', program, { ...b.env, TRACEPARENT: undefined });
    expect(onlyLoom.spans[0]).toMatchObject({ traceId: b.traceId, parentSpanId: b.spanId });

    const none = await run('node', program, { LOOM_TRACE_FILE: SPAN_FILE });
    expect(none.stdout).toMatch(/^[0-9a-f]{32} ""\n$/);
    expect(none.spans).toHaveLength(1);
    expect(none.spans[0]!.traceId).toBe(none.stdout.slice(0, 32));
    expect(none.spans[0]!.parentSpanId).toBe('');
  });

  it('10,000 spans: 10,000 valid JSON lines', async () => {
    const { traceId, spanId, env } = traceEnv();
    const r = await run(
      'node',
      `
const { traceSpanSync } = require('loom-trace.js');
const t0 = performance.now();
for (let i = 0; i < 10000; i++) traceSpanSync('iter', { i }, () => {});
console.log((performance.now() - t0).toFixed(1));
`,
      env,
    );
    expect(r.exitCode).toBe(0);
    expect(r.lines).toHaveLength(10_000);
    const seen = new Set(r.spans.map((s) => s.attributes.i));
    expect(seen.size).toBe(10_000);
    expect(r.spans.every((s) => s.traceId === traceId && s.parentSpanId === spanId && s.status === 'ok')).toBe(true);
    console.log(`node: 10,000 spans in ${r.stdout.trim()} ms inside the container (container run ${r.ms.toFixed(0)} ms)`);
  });
});
