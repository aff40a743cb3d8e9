// The Python runner (resources/runner/loom_runner.py) in a real sandbox made the way the engine
// makes them: nobody, read-only root, /tmp only, no network, 1 CPU, 256 MB.
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { SANDBOX_USER } from '../container';
import { runExec } from '../exec';
import type { StreamKind } from '../output';
import { requireEngineAndImages, text } from '../test-support';
import { RunnerClient, RunnerDiedError, RunnerRequestError, type RunResult } from './client';
import {
  expectSilentHostKilled,
  FIXTURES_DIR,
  percentile,
  removeSandbox,
  removeSandboxWithRunner,
  runOn,
  runWithSpans,
  sandboxWithRunner,
  startSandbox,
  type RunExtra,
} from './test-support';

const IMAGE = 'python:3.11-slim';
let container: Docker.Container;
let client: RunnerClient;
/** A twin of `container` (made the same way) with no runner in it: docker exec's side of comparisons. */
let twin: Docker.Container;

// Files the runs use: every run starts with an empty /tmp, so they come from a read-only mount.
const FIXTURES = {
  'fid.py': 'import sys\ndef g():\n    raise KeyError(2)\nprint(__name__, __file__, sys.argv, sys.path[0])\ng()\n',
  'syn.py': 'def f(:\n',
  'x.py': 'import sys\nprint("file", sys.argv[1:], __name__)\n',
  'mylib/newpkg/__init__.py': 'X = 5\n',
};

beforeAll(async () => {
  await requireEngineAndImages();
  ({ container, client } = await sandboxWithRunner(IMAGE, 'python', {}, FIXTURES));
  twin = await startSandbox(IMAGE, 'python', { fixtures: FIXTURES });
});

afterAll(async () => {
  await removeSandbox(twin);
  await removeSandboxWithRunner(container, client);
});

function run(argv: string[], extra: RunExtra = {}, on: RunnerClient = client): Promise<RunResult> {
  return runOn(on, argv, extra);
}
const py = (code: string, ...args: string[]): string[] => ['python3', '-c', code, ...args];

/**
 * Lets the runner finish its pre-imports, which it does only while idle (between runs), and
 * after which it keeps a spare child forked ahead.
 */
async function settle(on: RunnerClient = client): Promise<void> {
  // Until a program sees the next spare beside it (forked once the pre-imports are done), with
  // idle time between runs for them: a busy machine takes longer than a quiet one.
  const spares = py(
    "import os, time\ndef comm(p):\n  try: return open('/proc/%s/comm' % p).read()\n  except OSError: return ''\n" +
      "for _ in range(50):\n  n = sum(comm(p).startswith('loom-spare') for p in os.listdir('/proc') if p.isdigit())\n  if n: break\n  time.sleep(0.01)\nprint(n)",
  );
  const deadline = Date.now() + 60_000;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const seen = text((await run(spares, {}, on)).stdout).trim();
    if (seen !== '0' || Date.now() > deadline) break;
  }
}

describe('python runner', () => {
  it('says READY as the python runner with the container environment', () => {
    expect(client.info.runner).toBe('python');
    expect(client.alive).toBe(true);
    expect(client.baseEnv.PYTHONPATH).toContain('/opt/loom/lib/trace/python');
    expect(client.baseEnv.HOME).toBe('/tmp');
  });

  it('runs python3 -c in a fork: hello', async () => {
    const r = await run(py("print('hello')"));
    expect(text(r.stdout)).toBe('hello\n');
    expect(r.stderr.length).toBe(0);
    expect(r).toMatchObject({ exitCode: 0, signal: null, timedOut: false, aborted: false });
    expect(r.wallMs).toBeGreaterThan(0);
  });

  it('runs 200 sequential hellos, all correct (latency logged)', async () => {
    const times: number[] = [];
    const inside: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      const r = await run(py(`print('hello', ${i})`));
      times.push(performance.now() - t);
      inside.push(r.wallMs);
      expect(text(r.stdout)).toBe(`hello ${i}\n`);
      expect(r.exitCode).toBe(0);
    }
    // The same program by `docker exec`, for scale (this machine's load moves both).
    const execs: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      await runExec(container, { argv: py("print('hello')"), user: SANDBOX_USER, maxOutputBytes: 1024 });
      execs.push(performance.now() - t);
    }
    for (const list of [times, inside, execs]) list.sort((a, b) => a - b);
    console.log(
      `python runner, 200 sequential hellos: host round trip p50 ${percentile(times, 50).toFixed(2)} ms, ` +
        `p99 ${percentile(times, 99).toFixed(2)} ms; in the container p50 ${percentile(inside, 50).toFixed(2)} ms; ` +
        `docker exec p50 ${percentile(execs, 50).toFixed(2)} ms`,
    );
  });

  it('reports exit codes: sys.exit(3), an uncaught exception with its traceback, sys.exit(str)', async () => {
    expect((await run(py('import sys; sys.exit(3)'))).exitCode).toBe(3);
    const err = await run(py("def f():\n  raise ValueError('bad value')\nf()"));
    expect(err.exitCode).toBe(1);
    expect(text(err.stderr)).toBe(
      'Traceback (most recent call last):\n  File "<string>", line 3, in <module>\n  File "<string>", line 2, in f\nValueError: bad value\n',
    );
    const msg = await run(py("import sys; sys.exit('boom')"));
    expect([msg.exitCode, text(msg.stderr)]).toEqual([1, 'boom\n']);
  });

  it('prints, exits and reports exactly as a fresh interpreter under docker exec does', async () => {
    const programs: string[][] = [
      py('print(1)'),
      py('print('),
      py('raise KeyboardInterrupt'),
      py('import sys; sys.exit(300)'),
      py('import sys; sys.exit(None)'),
      py('try:\n  1/0\nexcept Exception:\n  raise ValueError(3)'),
      py("import sys, os; print(sorted(dir()), __name__, __loader__.__name__, sys.argv, sys.path, os.getcwd(), sys.executable, sys.orig_argv)", 'a', 'b'),
      py('import sys; s = sys.stdout; e = sys.stderr; print(s.encoding, s.errors, s.line_buffering, s.write_through, e.errors, e.line_buffering, sys.stdin.errors, s.name, s.mode, type(s.buffer).__name__)'),
      // (Less HOSTNAME, which is the container's id: the twin's differs.)
      py("import os; print(sorted(i for i in os.environ.items() if i[0] != 'HOSTNAME'))"),
      py('import sys; print(sys.stdin.read()[::-1])'),
      py("import sys; sys.stdout.write('no newline'); sys.stderr.write('err'); sys.exit(7)"),
      py('import signal, os; print(signal.getsignal(signal.SIGINT).__name__, signal.getsignal(signal.SIGPIPE), signal.getsignal(signal.SIGCHLD), os.getpgid(0) == os.getpid())'),
      ['python3', '-u', '-c', 'import sys; print(sys.stdout.write_through, sys.argv)', 'x'],
      ['python3', `${FIXTURES_DIR}/fid.py`, 'arg'],
      ['python3', `${FIXTURES_DIR}/syn.py`],
      ['python3', `${FIXTURES_DIR}/missing.py`],
      ['python3', '-c'],
      ['python3', '-m', 'json.tool', '--help'],
      ['python', '-c', 'import sys; print(sys.executable)'],
    ];
    const env = { LOOM_EXTRA: 'x' };
    for (const argv of programs) {
      const stdin = Buffer.from('abc\ndef');
      const viaRunner = await run(argv, { env, stdin });
      const viaExec = await runExec(twin, { argv, env, user: SANDBOX_USER, workingDir: '/tmp', stdin, maxOutputBytes: 1 << 20 });
      const show = (r: { exitCode: number; stdout: Buffer; stderr: Buffer }): string[] => [String(r.exitCode), text(r.stdout), text(r.stderr)];
      expect(show(viaRunner), argv.join(' ')).toEqual(show(viaExec));
    }
  });

  it('delivers stdin and then EOF; big stdin is no deadlock even when unread', async () => {
    const r = await run(py('import sys; data = sys.stdin.read(); print(data.upper()); print(repr(sys.stdin.read()))'), { stdin: Buffer.from('abc\n') });
    expect(text(r.stdout)).toBe("ABC\n\n''\n");
    const big = Buffer.alloc(3 << 20, 0x61);
    const echoed = await run(['cat'], { stdin: big });
    expect(echoed.stdout.equals(big)).toBe(true);
    const counted = await run(py('import sys; print(len(sys.stdin.buffer.read()))'), { stdin: big });
    expect(text(counted.stdout)).toBe(`${3 << 20}\n`);
    const unread = await run(py("print('did not read')"), { stdin: big });
    expect(text(unread.stdout)).toBe('did not read\n');
  });

  it('gives each run its env and cwd, and nothing of the previous run', async () => {
    const first = await run(py("import os; os.environ['LEAK'] = 'yes'; print(os.environ['A'], os.getcwd())"), { env: { A: '1' }, cwd: FIXTURES_DIR });
    expect(text(first.stdout)).toBe(`1 ${FIXTURES_DIR}\n`);
    const second = await run(py("import os; print(os.environ.get('A'), os.environ.get('LEAK'), os.getcwd())"));
    expect(text(second.stdout)).toBe('None None /tmp\n');
    // Subprocesses see the program's environment too (the C environment, not only os.environ).
    const sub = await run(['sh', '-c', 'echo "$A"'], { env: { A: 'two' } });
    expect(text(sub.stdout)).toBe('two\n');
    const child = await run(py("import subprocess; subprocess.run(['sh', '-c', 'echo $B'])"), { env: { B: 'inherited' } });
    expect(text(child.stdout)).toBe('inherited\n');
  });

  it('does not leak module state between runs', async () => {
    await run(py('import json; json.x = 1; import sys; sys.modules["leaked"] = json'));
    const r = await run(py("import json, sys; print(hasattr(json, 'x'), 'leaked' in sys.modules)"));
    expect(text(r.stdout)).toBe('False False\n');
  });

  it('re-seeds random in every fork', async () => {
    const a = await run(py('import random; print(random.random())'));
    const b = await run(py('import random; print(random.random())'));
    expect(text(a.stdout)).not.toBe(text(b.stdout));
  });

  it('hands the program only its three std descriptors', async () => {
    const r = await run(py("import os\nfor fd in sorted(os.listdir('/proc/self/fd'), key=int):\n  try: print(fd, os.readlink('/proc/self/fd/' + fd))\n  except OSError: pass"));
    // (The listing's own descriptor is closed again by the time it is read.)
    expect(text(r.stdout).trim().split('\n')).toEqual([expect.stringMatching(/^0 pipe:/), expect.stringMatching(/^1 pipe:/), expect.stringMatching(/^2 pipe:/)]);
  });

  // The child of the next program is forked ahead, while a program runs ("spare",
  // loom_runner.py fork_spare): the program must not be able to reach into it, and a spare it
  // stopped or killed must not cost the next run.
  it('forks the next child ahead, out of the running program’s reach', async () => {
    // (The spare is forked once this program has started: it looks until it is there.)
    await settle();
    const probe = `import os, signal, time
me, server = os.getpid(), os.getppid()
for _ in range(500):
    spares = []
    for p in filter(str.isdigit, os.listdir('/proc')):
        try:
            if 'loom_runner.py' in open('/proc/%s/cmdline' % p).read() and int(p) not in (me, server):
                spares.append(int(p))
        except OSError:
            pass
    if spares:
        break
    time.sleep(0.01)
print(len(spares), open('/proc/%d/comm' % spares[0]).read().strip())
for what in ('fd', 'environ', 'mem'):
    try:
        os.listdir('/proc/%d/fd' % spares[0]) if what == 'fd' else open('/proc/%d/%s' % (spares[0], what), 'rb').read(1)
        print(what, 'readable')
    except OSError as e:
        print(what, type(e).__name__)
os.kill(spares[0], getattr(signal, os.environ['DO']))`;
    const stopped = await run(py(probe), { env: { DO: 'SIGSTOP' } });
    expect(text(stopped.stdout), text(stopped.stderr)).toBe('1 loom-spare\nfd PermissionError\nenviron PermissionError\nmem PermissionError\n');
    const afterStop = await run(py("print('after stop')"));
    expect([afterStop.exitCode, text(afterStop.stdout)]).toEqual([0, 'after stop\n']);
    const killed = await run(py(probe), { env: { DO: 'SIGKILL' } });
    expect(killed.exitCode, text(killed.stderr)).toBe(0);
    const afterKill = await run(py("print('after kill')"));
    expect([afterKill.exitCode, text(afterKill.stdout), text(afterKill.stderr)]).toEqual([0, 'after kill\n', '']);
  });

  it('kills background children after the run, also those that left the session', async () => {
    const r = await run(
      py(
        "import subprocess\nsubprocess.Popen(['sleep', '100'])\nsubprocess.Popen(['sleep', '101'], start_new_session=True)\n" +
          "subprocess.Popen(['sh', '-c', 'sleep 102 & sleep 103 & wait'], start_new_session=True)\nprint('started')",
      ),
    );
    expect(text(r.stdout)).toBe('started\n');
    const ps = await run(py("import os\nfor p in os.listdir('/proc'):\n  if p.isdigit():\n    try: print(open('/proc/%s/cmdline' % p).read().replace('\\0', ' '))\n    except OSError: pass"));
    expect(text(ps.stdout)).not.toMatch(/sleep 10[0-3]/);
  });

  it('enforces the timeout by killing the process group, and the next run works', async () => {
    const r = await run(py("import subprocess; subprocess.Popen(['sleep', '100'])\nwhile True: pass"), { timeoutMs: 1000 });
    expect(r).toMatchObject({ timedOut: true, exitCode: 137, signal: 'SIGKILL', aborted: false });
    expect(r.wallMs).toBeGreaterThanOrEqual(1000);
    expect(r.wallMs).toBeLessThan(5000);
    const next = await run(py("import os; print('ok', any('sleep\\x00100' in open('/proc/%s/cmdline' % p).read() for p in os.listdir('/proc') if p.isdigit()))"));
    expect(text(next.stdout)).toBe('ok False\n');
  });

  it('kills a program whose host went silent (died without closing the stream); a pinging host’s is left alone', async () => {
    await expectSilentHostKilled(client, py("import time; print('started', flush=True); time.sleep(30)"), py("import time; time.sleep(2.5); print('done')"));
  });

  it('delivers 10 MB of stdout whole in ≤ 64 KB chunks, or capped and flagged', async () => {
    const code = "import sys; sys.stdout.write('x' * 10_000_000)";
    const chunks: number[] = [];
    const whole = await run(py(code), { onOutput: (_kind, chunk) => chunks.push(chunk.length) });
    expect(whole.stdout.length).toBe(10_000_000);
    expect(whole.stdoutTruncated).toBe(false);
    expect(Math.max(...chunks)).toBeLessThanOrEqual(64 * 1024);
    expect(chunks.reduce((a, b) => a + b, 0)).toBe(10_000_000);
    const capped = await run(py(code), { maxOutputBytes: 1 << 20 });
    expect(capped.stdout.length).toBe(1 << 20);
    expect(capped.stdoutTruncated).toBe(true);
    expect(capped.stderrTruncated).toBe(false);
    expect(capped.exitCode).toBe(0);
  });

  it('streams output as it arrives, in order within each stream', async () => {
    const seen: { kind: StreamKind; at: number; data: string }[] = [];
    const t = performance.now();
    const r = await run(
      py("import sys, time\nfor i in range(300):\n  print('o%d' % i)\n  print('e%d' % i, file=sys.stderr)\nsys.stdout.flush()\ntime.sleep(0.5)\nprint('late')"),
      { onOutput: (kind, chunk) => seen.push({ kind, at: performance.now() - t, data: chunk.toString() }) },
    );
    const numbers = (s: string, p: string): number[] => s.split('\n').filter((l) => l.startsWith(p)).map((l) => Number(l.slice(1)));
    expect(numbers(text(r.stdout), 'o')).toEqual([...Array(300).keys()]);
    expect(numbers(text(r.stderr), 'e')).toEqual([...Array(300).keys()]);
    // The first lines arrived well before the program ended: forwarded, not held until exit.
    const first = seen.find((s) => s.data.includes('o0'));
    const late = seen.find((s) => s.data.includes('late'));
    expect(first && late && late.at - first.at).toBeGreaterThan(300);
  });

  it('runs other commands by fork + exec: sh with arguments, ls', async () => {
    const sh = await run(['sh', '-c', 'echo $0 $1', 'a', 'b']);
    expect(text(sh.stdout)).toBe('a b\n');
    const ls = await run(['ls', '/']);
    expect(text(ls.stdout).split('\n')).toEqual(expect.arrayContaining(['opt', 'tmp', 'usr']));
    const code = await run(['sh', '-c', 'exit 42']);
    expect(code.exitCode).toBe(42);
    const killed = await run(['sh', '-c', 'kill -TERM $$']);
    expect([killed.exitCode, killed.signal]).toEqual([143, 'SIGTERM']);
  });

  it('refuses what it cannot run: a missing command, a missing cwd, a second run at once', async () => {
    await expect(run(['no-such-command'])).rejects.toMatchObject({ name: 'RunnerRequestError', code: 'not_found' });
    await expect(run(['/etc/passwd'])).rejects.toMatchObject({ code: 'not_executable' });
    await expect(run(['true'], { cwd: '/nowhere' })).rejects.toMatchObject({ code: 'bad_cwd' });
    const slow = run(py("import time; time.sleep(0.5); print('first')"));
    const second = run(py("print('second')"));
    await expect(second).rejects.toBeInstanceOf(RunnerRequestError);
    await expect(second).rejects.toMatchObject({ code: 'busy' });
    expect(text((await slow).stdout)).toBe('first\n');
    expect(client.alive).toBe(true);
  });

  it('follows the span file while the program runs, sends the rest at its end, then removes it', async () => {
    const file = '/tmp/.loom-spans-test-py.jsonl';
    const code = `import time
f = open('${file}', 'a')
f.write('{"a":1}\\n'); f.flush()
time.sleep(0.3)
f.write('{"b":'); f.flush()
time.sleep(0.05)
f.write('2}\\n{"c":3}'); f.flush()`;
    const { r, spans } = await runWithSpans(run, py(code), file);
    expect(r.exitCode, text(r.stderr)).toBe(0);
    expect(spans.bytes).toBe('{"a":1}\n{"b":2}\n{"c":3}');
    expect(spans.leadMs).toBeGreaterThan(100);
    const gone = await run(py(`import os; print(os.path.exists('${file}'))`));
    expect(text(gone.stdout)).toBe('False\n');
  });

  it('reads nothing but a regular file there: a FIFO or a symlink to /dev/zero ends the run as usual', async () => {
    const fifo = await runWithSpans(run, py("import os; os.mkfifo('/tmp/.loom-spans-fifo')"), '/tmp/.loom-spans-fifo');
    expect(fifo.r.exitCode, text(fifo.r.stderr)).toBe(0);
    expect(fifo.spans.chunks).toBe(0);
    const zero = await runWithSpans(run, py("import os; os.symlink('/dev/zero', '/tmp/.loom-spans-zero')"), '/tmp/.loom-spans-zero');
    expect(zero.r.exitCode, text(zero.r.stderr)).toBe(0);
    expect(zero.spans.chunks).toBe(0);
  });

  it('kills the program when the caller aborts', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const t = performance.now();
    const r = await run(py('import time; time.sleep(30)'), { signal: controller.signal });
    expect(r).toMatchObject({ aborted: true, timedOut: false, exitCode: 137 });
    expect(performance.now() - t).toBeLessThan(5000);
  });

  it('runs python3 FILE', async () => {
    const r = await run(['python3', `${FIXTURES_DIR}/x.py`, 'a', 'b']);
    expect(text(r.stdout)).toBe("file ['a', 'b'] __main__\n");
    const relative = await run(['python3', 'x.py'], { cwd: FIXTURES_DIR });
    expect(text(relative.stdout)).toBe('file [] __main__\n');
  });

  it('builds sys.path from the run’s own PYTHONPATH', async () => {
    const env = { PYTHONPATH: `${client.baseEnv.PYTHONPATH}:${FIXTURES_DIR}/mylib` };
    const r = await run(py('import sys, json, newpkg; print(newpkg.X); print(json.dumps(sys.path))'), { env, cwd: '/' });
    const [x, path] = text(r.stdout).split('\n');
    const expected = [...(client.baseEnv.PYTHONPATH ?? '').split(':'), `${FIXTURES_DIR}/mylib`];
    expect(x).toBe('5');
    expect((JSON.parse(path ?? '[]') as string[]).slice(0, expected.length + 1)).toEqual(['', ...expected]);
    const without = await run(py('import newpkg'), { cwd: '/' });
    expect(text(without.stderr)).toContain("ModuleNotFoundError: No module named 'newpkg'");
  });

  it('imports from a PYTHONPATH directory of the container that appeared after the runner started', async () => {
    // The server looked for its pre-imports in /tmp/later before it existed and cached that it
    // does not: a forked program that makes it must find what it puts there.
    const later = await sandboxWithRunner(IMAGE, 'python', { PYTHONPATH: '/tmp/later' });
    try {
      await settle(later.client);
      const r = await run(py("import os; os.makedirs('/tmp/later'); open('/tmp/later/latemod.py', 'w').write('X = 7\\n')\nimport latemod; print(latemod.X)"), {}, later.client);
      expect(text(r.stderr)).toBe('');
      expect(text(r.stdout)).toBe('7\n');
    } finally {
      await removeSandbox(later.container);
      later.client.close();
    }
  });

  it('gives loom_trace the run’s own trace context and span file', async () => {
    const traceId = 'ab'.repeat(16);
    const env = { TRACEPARENT: `00-${traceId}-${'cd'.repeat(8)}-01`, LOOM_TRACE_FILE: '/tmp/spans.jsonl' };
    const spans = await run(py("from loom_trace import trace_span, tracer\nwith trace_span('inside'): pass\nprint(open('/tmp/spans.jsonl').read())"), { env });
    const record = JSON.parse(text(spans.stdout).trim().split('\n')[0] ?? '{}') as { name?: string; traceId?: string; parentSpanId?: string };
    expect(record).toMatchObject({ name: 'inside', traceId, parentSpanId: 'cd'.repeat(8) });
  });

  it('measures CPU time and peak memory', async () => {
    const busy = await run(py('import time\nt = time.process_time()\nwhile time.process_time() - t < 0.2: pass'));
    expect(busy.cpuMs).toBeGreaterThanOrEqual(150);
    const small = await run(py('x = 1'));
    const big = await run(py("x = b'\\x01' * (100 * 1024 * 1024)"));
    expect(big.peakRssKb - small.peakRssKb).toBeGreaterThan(90_000);
  });
});

describe('python runner killed by the program', () => {
  it('rejects that run with RunnerDiedError, and a new runner can be started', async () => {
    // A container of its own: two runners in one would clean each other away.
    const { container, client: victim } = await sandboxWithRunner(IMAGE, 'python');
    onTestFinished(() => removeSandbox(container));
    if (!victim) throw new Error('no runner');
    const r = run(py(`import os, time; os.kill(${victim.info.pid}, 9); time.sleep(1)`), {}, victim);
    await expect(r).rejects.toBeInstanceOf(RunnerDiedError);
    expect(victim.alive).toBe(false);
    await expect(run(py('1'), {}, victim)).rejects.toBeInstanceOf(RunnerDiedError);
    const again = await RunnerClient.start(container, 'python');
    expect(again).not.toBeNull();
    if (again) {
      expect(text((await run(py("print('back')"), {}, again)).stdout)).toBe('back\n');
      again.close();
    }
  });

  it('resolves null where no runner can start', async () => {
    // No runner files in the container: the interpreter starts and fails at once, and there is
    // no node to try next.
    const bare = await startSandbox(IMAGE, 'python', { withRunner: false });
    try {
      expect(await RunnerClient.start(bare, 'custom')).toBeNull();
      await bare.stop({ t: 0 });
      expect(await RunnerClient.start(bare, 'python')).toBeNull();
    } finally {
      await removeSandbox(bare);
    }
  });
});
