// The in-container runners (resources/runner/loom_runner.py and loom-runner.js), each in a real
// sandbox made the way the engine makes them: nobody, read-only root, /tmp only, no network,
// 1 CPU, 256 MB. One conformance suite: every behaviour both runners must have runs for both
// (describe.each over RUNTIMES, each giving its own programs); what only one of them has (Python's
// fork of the server, Node's spare) is in a block of its own below.
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { SANDBOX_USER } from '../container/container';
import { openExec, runExec } from '../container/exec';
import { FrameDemuxer, type StreamKind } from '../container/output';
import { requireEngineAndImages, text } from '../testing/test-support';
import { RUNNER_JS, RUNNER_PY, RunnerClient, RunnerDiedError, RunnerRequestError, RunnerUnresponsiveError, type RunResult } from './client';
import { encodeFrame, encodeJsonFrame, FrameParser, FrameType, PROTOCOL_VERSION, type Frame } from './protocol';
import spec from './protocol.json';
import {
  expectSilentHostKilled,
  FIXTURES_DIR,
  percentile,
  removeResourcesRoot,
  removeSandbox,
  runOn,
  runWithSpans,
  sandboxWithRunner,
  startSandbox,
  type RunExtra,
} from './test-support';

type Lang = 'python' | 'node';

/** A runtime as the conformance suite drives it: the same behaviours, in its own words. */
interface Runtime {
  runtime: Lang;
  image: string;
  /** The runner's own file, as `ps` shows it in a command line. */
  runnerFile: string;
  /** argv running `code` the way the runner serves fastest (a fork of the server, the spare). */
  code: (code: string, ...args: string[]) => string[];
  /** The interpreter, to run a file with. */
  interpreter: string;
  /** The variable of the module search path, and what a missing module's error says. */
  pathVar: 'PYTHONPATH' | 'NODE_PATH';
  missingModule: string;
  /** Files the runs use (every run starts with an empty /tmp: they come from a read-only mount). */
  fixtures: Record<string, string>;
  /** Waits until the runner has done what it does between runs while idle. */
  settle: (run: (argv: string[]) => Promise<RunResult>) => Promise<void>;
  /** Programs of each behaviour, by what they do. */
  src: {
    hello: (i: number) => string;
    exit3: string;
    throwBoom: string;
    /** Prints stdin upper-cased once it has all of it (EOF). */
    stdinUpper: string;
    stdinLength: string;
    ignoreStdin: string;
    /** Prints $A and the cwd, and sets LEAK in its own environment. */
    envCwdLeak: string;
    /** Prints $A, $LEAK ('-' if unset) and the cwd. */
    envAfter: string;
    /** A subprocess prints $B. */
    subprocessEnv: string;
    /** Changes a module and global state for a later run to find. */
    moduleLeak: string;
    /** 'clean' if it finds nothing of moduleLeak, else 'leaked'. */
    moduleCheck: string;
    random: string;
    /** Each descriptor it has and what it is, one a line: `FD TARGET`. */
    descriptors: string;
    /** Leaves `sleep 100` in its group, `sleep 101` in a session of its own, and `sleep 102`/`103` under a shell there; prints 'started'. */
    background: string;
    /** Leaves a `sleep 100` and spins. */
    spinWithChild: string;
    /** Prints 'started', then waits 30 s. */
    hung: string;
    /** Prints 'done' after 2.5 s. */
    slow: string;
    tenMegabytes: string;
    /** o0..o299 on stdout and e0..e299 on stderr interleaved, then 'late' 0.5 s later. */
    interleaved: string;
    /** Prints 'first' after 0.5 s. */
    firstAfterHalfSecond: string;
    sleep30: string;
    /** Appends to `file` in three writes: a record, half of one after 0.3 s, the rest after 0.05 s more. */
    spanWriter: (file: string) => string;
    mkfifo: (path: string) => string;
    symlinkZero: (path: string) => string;
    fileExists: (path: string) => string;
    /** Imports newpkg (a fixture under mylib) and prints its X. */
    importNewpkg: string;
    /** Makes /tmp/later/latemod with X = 7, imports it and prints X. */
    importLater: string;
    /** Records a span named 'inside' with the trace library, then prints /tmp/spans.jsonl. */
    traceInside: string;
    cpuFor200ms: string;
    small: string;
    allocate100MB: string;
    /** Writes 20 MB it has not touched before: 5,120 page faults at least. */
    touch20MB: string;
    /** Kills `pid` with SIGKILL and lingers 1 s. */
    killPid: (pid: number) => string;
  };
  /** Programs whose output, exit code and errors must be what `docker exec` gives. */
  asUnderExec: string[][];
  /**
   * A program's descriptors (`FD TARGET` lines) as the runner gives them, with what is known to
   * differ from docker exec's undone: on the fast path, or for a command it starts as it is.
   */
  undoKnownDescriptorDifferences: (listing: string, fastPath: boolean) => string;
}

const py = (code: string, ...args: string[]): string[] => ['python3', '-c', code, ...args];
/** python3 -c by a fresh interpreter, not a fork of the runner's (it has an option a fork does not take). */
const fresh = (code: string): string[] => ['python3', '-B', '-c', code];
const js = (code: string, ...args: string[]): string[] => ['node', '-e', code, ...args];

const PYTHON: Runtime = {
  runtime: 'python',
  image: 'python:3.11-slim',
  runnerFile: 'loom_runner.py',
  code: py,
  interpreter: 'python3',
  pathVar: 'PYTHONPATH',
  missingModule: "ModuleNotFoundError: No module named 'newpkg'",
  fixtures: {
    'fid.py': 'import sys\ndef g():\n    raise KeyError(2)\nprint(__name__, __file__, sys.argv, sys.path[0])\ng()\n',
    'syn.py': 'def f(:\n',
    'file.py': "import sys\nprint('file', *sys.argv[1:], 'main' if __name__ == '__main__' else 'not main')\n",
    'mylib/newpkg/__init__.py': 'X = 5\n',
    'lean.py': "import sys\nprint(sorted(m for m in ('asyncio', 'decimal', 'uuid') if m in sys.modules))\n",
    'full.py': "import sys\nimport uuid\nprint(sorted(m for m in ('asyncio', 'decimal', 'uuid') if m in sys.modules))\n",
  },
  // The next program's children are forked ahead, a lean one and one with the pre-imports (whose
  // forker imports them first): until a program sees both spares beside it, with idle time
  // between runs (a busy machine takes longer than a quiet one). The program is run by a fresh
  // interpreter (-B is not a fork's to honour): a forked one would be a spare itself.
  settle: async (run) => {
    const spares = fresh(
      "import os, time\ndef comm(p):\n  try: return open('/proc/%s/comm' % p).read()\n  except OSError: return ''\n" +
        "for _ in range(50):\n  n = sum(comm(p).startswith('loom-spare') for p in os.listdir('/proc') if p.isdigit())\n  if n >= 2: break\n  time.sleep(0.01)\nprint(n)",
    );
    const deadline = Date.now() + 60_000;
    for (;;) {
      await sleep(200);
      const seen = text((await run(spares)).stdout).trim();
      if (seen === '2' || Date.now() > deadline) break;
    }
  },
  src: {
    hello: (i) => `print('hello', ${i})`,
    exit3: 'import sys; sys.exit(3)',
    throwBoom: "def f():\n  raise ValueError('boom')\nf()",
    stdinUpper: 'import sys; print(sys.stdin.read().upper() + sys.stdin.read())',
    stdinLength: 'import sys; print(len(sys.stdin.buffer.read()))',
    ignoreStdin: "print('did not read')",
    envCwdLeak: "import os; os.environ['LEAK'] = 'yes'; print(os.environ['A'], os.getcwd())",
    envAfter: "import os; print(os.environ.get('A', '-'), os.environ.get('LEAK', '-'), os.getcwd())",
    subprocessEnv: "import subprocess; subprocess.run(['sh', '-c', 'echo $B'])",
    moduleLeak: "import json, sys, builtins; json.x = 1; sys.modules['leaked'] = json; builtins.leaked = 1",
    moduleCheck: "import json, sys, builtins; print('leaked' if hasattr(json, 'x') or 'leaked' in sys.modules or hasattr(builtins, 'leaked') else 'clean')",
    random: 'import random; print(random.random())',
    descriptors: "import os\nfor fd in sorted(os.listdir('/proc/self/fd'), key=int):\n  try: print(fd, os.readlink('/proc/self/fd/' + fd))\n  except OSError: pass",
    background:
      "import subprocess\nsubprocess.Popen(['sleep', '100'])\nsubprocess.Popen(['sleep', '101'], start_new_session=True)\n" +
      "subprocess.Popen(['sh', '-c', 'sleep 102 & sleep 103 & wait'], start_new_session=True)\nprint('started')",
    spinWithChild: "import subprocess; subprocess.Popen(['sleep', '100'])\nwhile True: pass",
    hung: "import time; print('started', flush=True); time.sleep(30)",
    slow: "import time; time.sleep(2.5); print('done')",
    tenMegabytes: "import sys; sys.stdout.write('x' * 10_000_000)",
    interleaved: "import sys, time\nfor i in range(300):\n  print('o%d' % i)\n  print('e%d' % i, file=sys.stderr)\nsys.stdout.flush()\ntime.sleep(0.5)\nprint('late')",
    firstAfterHalfSecond: "import time; time.sleep(0.5); print('first')",
    sleep30: 'import time; time.sleep(30)',
    spanWriter: (file) =>
      `import time\nf = open('${file}', 'a')\nf.write('{"a":1}\\n'); f.flush()\ntime.sleep(0.3)\nf.write('{"b":'); f.flush()\ntime.sleep(0.05)\nf.write('2}\\n{"c":3}'); f.flush()`,
    mkfifo: (path) => `import os; os.mkfifo('${path}')`,
    symlinkZero: (path) => `import os; os.symlink('/dev/zero', '${path}')`,
    fileExists: (path) => `import os; print(os.path.exists('${path}'))`,
    importNewpkg: 'import newpkg; print(newpkg.X)',
    importLater: "import os; os.makedirs('/tmp/later'); open('/tmp/later/latemod.py', 'w').write('X = 7\\n')\nimport latemod; print(latemod.X)",
    traceInside: "from loom_trace import trace_span\nwith trace_span('inside'): pass\nprint(open('/tmp/spans.jsonl').read())",
    cpuFor200ms: 'import time\nt = time.process_time()\nwhile time.process_time() - t < 0.2: pass',
    small: 'x = 1',
    allocate100MB: "x = b'\\x01' * (100 * 1024 * 1024)",
    touch20MB: "x = b'\\x01' * (20 * 1024 * 1024)",
    killPid: (pid) => `import os, time; os.kill(${pid}, 9); time.sleep(1)`,
  },
  asUnderExec: [
    py('print(1)'),
    py('print('),
    py('raise KeyboardInterrupt'),
    py('import sys; sys.exit(300)'),
    py('import sys; sys.exit(None)'),
    py("import sys; sys.exit('boom')"),
    py('try:\n  1/0\nexcept Exception:\n  raise ValueError(3)'),
    py("import sys, os; print(sorted(dir()), __name__, __loader__.__name__, sys.argv, sys.path, os.getcwd(), sys.executable, sys.orig_argv)", 'a', 'b'),
    py('import sys; s = sys.stdout; e = sys.stderr; print(s.encoding, s.errors, s.line_buffering, s.write_through, e.errors, e.line_buffering, sys.stdin.errors, s.name, s.mode, type(s.buffer).__name__)'),
    // (Less HOSTNAME, which is the container's id: the twin's differs.)
    py("import os; print(sorted(i for i in os.environ.items() if i[0] != 'HOSTNAME'))"),
    py('import sys; print(sys.stdin.read()[::-1])'),
    py("import sys; sys.stdout.write('no newline'); sys.stderr.write('err'); sys.exit(7)"),
    py('import signal, os; print(signal.getsignal(signal.SIGINT).__name__, signal.getsignal(signal.SIGPIPE), signal.getsignal(signal.SIGCHLD), os.getpgid(0) == os.getpid())'),
    // The runner's own modules (loom_protocol, loom_span_file) are not the program's to import.
    py('import loom_protocol'),
    py('import loom_span_file'),
    ['python3', '-u', '-c', 'import sys; print(sys.stdout.write_through, sys.argv)', 'x'],
    ['python3', `${FIXTURES_DIR}/fid.py`, 'arg'],
    ['python3', `${FIXTURES_DIR}/syn.py`],
    ['python3', `${FIXTURES_DIR}/missing.py`],
    ['python3', '-c'],
    ['python3', '-m', 'json.tool', '--help'],
    ['python', '-c', 'import sys; print(sys.executable)'],
  ],
  undoKnownDescriptorDifferences: (listing) => listing,
};

const NODE: Runtime = {
  runtime: 'node',
  image: 'node:20-slim',
  runnerFile: 'loom-runner.js',
  code: js,
  interpreter: 'node',
  pathVar: 'NODE_PATH',
  missingModule: "Cannot find module 'newpkg'",
  fixtures: {
    'f.js': 'console.log(process.argv.slice(1), require.main === module, __filename, module.id, process.cwd())',
    'file.js': "console.log('file', ...process.argv.slice(2), require.main === module ? 'main' : 'not main')",
    'm.mjs': 'import { sep } from "node:path"; console.log("esm", sep, import.meta.url)',
    'mylib/newpkg/index.js': 'exports.X = 5;\n',
  },
  // (Nothing to wait for: the next spare starts once a program is over.)
  settle: async () => undefined,
  src: {
    hello: (i) => `console.log('hello', ${i})`,
    exit3: 'process.exit(3)',
    throwBoom: "function f() { throw new Error('boom') }\nf()",
    stdinUpper: "let s = ''; process.stdin.setEncoding('utf8').on('data', (d) => (s += d)).on('end', () => console.log(s.toUpperCase()))",
    stdinLength: "let n = 0; process.stdin.on('data', (d) => (n += d.length)).on('end', () => console.log(n))",
    ignoreStdin: "console.log('did not read')",
    envCwdLeak: "process.env.LEAK = 'yes'; console.log(process.env.A, process.cwd())",
    envAfter: "console.log(process.env.A ?? '-', process.env.LEAK ?? '-', process.cwd())",
    subprocessEnv: "require('child_process').execSync('echo $B', { stdio: 'inherit' })",
    moduleLeak: "globalThis.leaked = 1; require('fs').leaked = true",
    moduleCheck: "console.log(globalThis.leaked !== undefined || require('fs').leaked ? 'leaked' : 'clean')",
    random: 'console.log(Math.random())',
    descriptors: "const fs = require('fs'); for (const fd of fs.readdirSync('/proc/self/fd').sort((a, b) => a - b)) { try { console.log(fd, fs.readlinkSync('/proc/self/fd/' + fd)) } catch {} }",
    background:
      "const { spawn } = require('child_process');\n" +
      "spawn('sleep', ['100'], { stdio: 'ignore' }).unref();\n" +
      "spawn('sleep', ['101'], { stdio: 'ignore', detached: true }).unref();\n" +
      "spawn('sh', ['-c', 'sleep 102 & sleep 103 & wait'], { stdio: 'ignore', detached: true }).unref();\n" +
      "console.log('started')",
    spinWithChild: "require('child_process').spawn('sleep', ['100']); while (true) {}",
    hung: "console.log('started'); setTimeout(() => {}, 30000)",
    slow: "setTimeout(() => console.log('done'), 2500)",
    tenMegabytes: "process.stdout.write('x'.repeat(10_000_000))",
    interleaved: "for (let i = 0; i < 300; i++) { console.log('o' + i); console.error('e' + i) }\nsetTimeout(() => console.log('late'), 500)",
    firstAfterHalfSecond: "setTimeout(() => console.log('first'), 500)",
    sleep30: 'setTimeout(() => {}, 30000)',
    spanWriter: (file) =>
      `const fs = require('fs');\nconst f = fs.openSync('${file}', 'a');\nfs.writeSync(f, '{"a":1}\\n');\n` +
      `setTimeout(() => {\n  fs.writeSync(f, '{"b":');\n  setTimeout(() => fs.writeSync(f, '2}\\n{"c":3}'), 50);\n}, 300);`,
    mkfifo: (path) => `require('child_process').execFileSync('mkfifo', ['${path}'])`,
    symlinkZero: (path) => `require('fs').symlinkSync('/dev/zero', '${path}')`,
    fileExists: (path) => `console.log(require('fs').existsSync('${path}') ? 'True' : 'False')`,
    importNewpkg: "console.log(require('newpkg').X)",
    importLater: "const fs = require('fs'); fs.mkdirSync('/tmp/later'); fs.writeFileSync('/tmp/later/latemod.js', 'exports.X = 7'); console.log(require('latemod').X)",
    traceInside: "require('loom-trace.js').traceSpanSync('inside', () => 1); console.log(require('fs').readFileSync('/tmp/spans.jsonl', 'utf8'))",
    cpuFor200ms: 'const t = process.cpuUsage(); while (process.cpuUsage(t).user < 200_000) {}',
    small: '1',
    allocate100MB: 'const b = Buffer.alloc(100 * 1024 * 1024, 1); console.log(b.length)',
    touch20MB: 'Buffer.alloc(20 * 1024 * 1024, 1)',
    killPid: (pid) => `process.kill(${pid}, 'SIGKILL'); setTimeout(() => {}, 1000)`,
  },
  asUnderExec: [
    js('console.log(process.argv, process.argv0, process.execArgv, __filename, __dirname, module.id, module.filename, typeof require, require.main, this === globalThis, typeof exports)', 'a', 'b'),
    // (Less HOSTNAME, which is the container's id: the twin's differs.)
    js("console.log(Object.entries(process.env).filter(([k]) => k !== 'HOSTNAME').sort())"),
    js("console.log(require('module').globalPaths.slice(0, 2), require.resolve.paths('x').slice(0, 2))"),
    // Nothing of the spare's own (this file, the runner's modules) is in the program's module cache.
    js('console.log(Object.keys(require.cache))'),
    js("let s = ''; process.stdin.on('data', (d) => (s += d)).on('end', () => console.log(s.split('').reverse().join('')))"),
    js('process.stdout.write("no newline"); process.stderr.write("err"); process.exitCode = 3'),
    js('import fs from "fs"; console.log(typeof fs.readFileSync)'),
    js('const m = await import("node:path"); console.log(typeof m.join)'),
    js('console.log(1)', '--flag'),
    ['node', `${FIXTURES_DIR}/f.js`, 'x', '-y'],
    ['node', `${FIXTURES_DIR}/missing.js`],
    ['node', '-p', '6*7'],
    // The spare ends itself once the program's exit listeners are done (loom-runner.js lastWord).
    js("process.on('exit', (c) => { console.log('bye', c); process.exitCode = 6 }); process.once('exit', () => console.error('once')); process.prependListener('exit', () => console.log('first'))"),
    js("setTimeout(() => { throw new Error('late') }, 5); process.on('exit', (c) => console.log('exit', c))"),
    js('process.exitCode = 300'),
    js("process.stdout.write('x'.repeat(1000)); process.exit(2)"),
  ],
  // Node's child_process gives a child socket pairs for its stdio, never pipes; and a program in
  // a spare also has fd 3, the spare's channel to the runner (loom-runner.js says why).
  undoKnownDescriptorDifferences: (listing, fastPath) =>
    listing
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(' ') as [string, string])
      .filter(([fd, target]) => !(fastPath && fd === '3' && target === 'socket:[]'))
      .map(([fd, target]) => {
        const n = fastPath && Number(fd) > 3 ? Number(fd) - 1 : Number(fd);
        return `${n} ${n <= 2 && target === 'socket:[]' ? 'pipe:[]' : target}\n`;
      })
      .join(''),
};

/** Each runtime with its name, for describe.each('%s …'). */
const RUNTIMES: [Lang, Runtime][] = [
  ['python', PYTHON],
  ['node', NODE],
];

/** A runtime's sandbox with its runner, and a twin made the same way with none: docker exec's side of comparisons. */
interface Sandbox {
  container: Docker.Container;
  client: RunnerClient;
  twin: Docker.Container;
}
const sandboxes = new Map<Lang, Sandbox>();

beforeAll(async () => {
  await requireEngineAndImages();
  for (const [, rt] of RUNTIMES) {
    const { container, client } = await sandboxWithRunner(rt.image, rt.runtime, {}, rt.fixtures);
    sandboxes.set(rt.runtime, { container, client, twin: await startSandbox(rt.image, rt.runtime, { fixtures: rt.fixtures }) });
  }
});

afterAll(async () => {
  for (const { container, client, twin } of sandboxes.values()) {
    client.close();
    await removeSandbox(container);
    await removeSandbox(twin);
  }
  removeResourcesRoot();
});

function sandbox(lang: Lang): Sandbox {
  const found = sandboxes.get(lang);
  if (!found) throw new Error(`no ${lang} sandbox: beforeAll failed`);
  return found;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const show = (r: { exitCode: number; stdout: Buffer; stderr: Buffer }): string[] => [String(r.exitCode), text(r.stdout), text(r.stderr)];
/** Every process's command line, one a line, by a program that is not the runtime's. */
const PS = ['sh', '-c', 'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline; echo; done'];

describe.each(RUNTIMES)('%s runner', (_name, rt) => {
  const client = (): RunnerClient => sandbox(rt.runtime).client;
  const run = (argv: string[], extra: RunExtra = {}, on: RunnerClient = client()): Promise<RunResult> => runOn(on, argv, extra);
  const code = (src: string, extra: RunExtra = {}, on?: RunnerClient): Promise<RunResult> => run(rt.code(src), extra, on);

  it('says READY as its runtime, with the container environment', () => {
    const c = client();
    expect(c.info).toMatchObject({ runner: rt.runtime, version: PROTOCOL_VERSION, clean: true, undumpable: true });
    expect(c.alive).toBe(true);
    expect(c.baseEnv[rt.pathVar]).toContain(`/opt/loom/lib/trace/${rt.runtime}`);
    expect(c.baseEnv.HOME).toBe('/tmp');
  });

  it('runs a hello on its fast path', async () => {
    const r = await code(rt.src.hello(1));
    expect(text(r.stdout)).toBe('hello 1\n');
    expect(r.stderr.length).toBe(0);
    expect(r).toMatchObject({ exitCode: 0, signal: null, timedOut: false, aborted: false, oomKilled: false });
    expect(r.wallMs).toBeGreaterThan(0);
  });

  // (140 runs and 20 execs: minutes on a machine that others load too.)
  it('runs 100 sequential hellos, all correct (latency logged)', { timeout: 300_000 }, async () => {
    const times: number[] = [];
    const inside: number[] = [];
    for (let i = 0; i < 100; i++) {
      const t = performance.now();
      const r = await code(rt.src.hello(i));
      times.push(performance.now() - t);
      inside.push(r.wallMs);
      expect(text(r.stdout)).toBe(`hello ${i}\n`);
      expect(r.exitCode).toBe(0);
    }
    // Back to back, a run may wait for what the previous one left to do (the Node runner's next
    // spare is node's start-up). With a pause between runs only the program counts.
    const paced: number[] = [];
    for (let i = 0; i < 20; i++) {
      await sleep(250);
      const t = performance.now();
      await code(rt.src.hello(i));
      paced.push(performance.now() - t);
    }
    // The same program by `docker exec`, for scale (this machine's load moves both).
    const execs: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      await runExec(sandbox(rt.runtime).container, { argv: rt.code(rt.src.hello(i)), user: SANDBOX_USER, maxOutputBytes: 1024 });
      execs.push(performance.now() - t);
    }
    for (const list of [times, inside, paced, execs]) list.sort((a, b) => a - b);
    const ms = (list: number[], p: number): string => `${percentile(list, p).toFixed(2)} ms`;
    console.log(
      `${rt.runtime} runner, 100 back-to-back hellos: host round trip p50 ${ms(times, 50)}, p99 ${ms(times, 99)}; ` +
        `in the container p50 ${ms(inside, 50)}; 20 hellos 250 ms apart: p50 ${ms(paced, 50)}, p99 ${ms(paced, 99)}; ` +
        `docker exec p50 ${ms(execs, 50)}`,
    );
  });

  it('reports exit codes: an exit status, an uncaught error with its message', async () => {
    expect((await code(rt.src.exit3)).exitCode).toBe(3);
    const thrown = await code(rt.src.throwBoom);
    expect(thrown.exitCode).toBe(1);
    expect(text(thrown.stderr)).toContain('boom');
  });

  it('prints, exits and reports exactly as under docker exec', async () => {
    const env = { LOOM_EXTRA: 'x' };
    for (const argv of rt.asUnderExec) {
      const stdin = Buffer.from('abc\ndef');
      const viaRunner = await run(argv, { env, stdin });
      const viaExec = await runExec(sandbox(rt.runtime).twin, { argv, env, user: SANDBOX_USER, workingDir: '/tmp', stdin, maxOutputBytes: 1 << 20 });
      expect(show(viaRunner), argv.join(' ')).toEqual(show(viaExec));
    }
  });

  it('hands the program the descriptors a program has under docker exec, and nothing of the runner’s', async () => {
    // (Pipe and socket numbers differ from run to run.)
    const listing = (r: { stdout: Buffer }): string => text(r.stdout).replace(/\[\d+\]/g, '[]');
    const shell = ['sh', '-c', 'cd /proc/self/fd && for fd in *; do echo "$fd $(readlink $fd)"; done'];
    for (const [argv, fastPath] of [
      [rt.code(rt.src.descriptors), true],
      [shell, false],
    ] as const) {
      const viaRunner = await run([...argv]);
      const viaExec = await runExec(sandbox(rt.runtime).twin, { argv: [...argv], user: SANDBOX_USER, workingDir: '/tmp', maxOutputBytes: 1 << 20 });
      expect(listing(viaExec), argv.join(' ')).toMatch(/^0 pipe:\[\]\n1 pipe:\[\]\n2 pipe:\[\]\n/);
      expect(rt.undoKnownDescriptorDifferences(listing(viaRunner), fastPath), argv.join(' ')).toBe(listing(viaExec));
    }
  });

  it('delivers stdin and then EOF; big stdin is no deadlock even when unread', async () => {
    const r = await code(rt.src.stdinUpper, { stdin: Buffer.from('abc') });
    expect(text(r.stdout)).toBe('ABC\n');
    const big = Buffer.alloc(3 << 20, 0x61);
    const echoed = await run(['cat'], { stdin: big });
    expect(echoed.stdout.equals(big)).toBe(true);
    const counted = await code(rt.src.stdinLength, { stdin: big });
    expect(text(counted.stdout)).toBe(`${3 << 20}\n`);
    const unread = await code(rt.src.ignoreStdin, { stdin: big });
    expect(text(unread.stdout)).toBe('did not read\n');
  });

  it('gives each run its env and cwd, and nothing of the previous run', async () => {
    const first = await code(rt.src.envCwdLeak, { env: { A: '1' }, cwd: FIXTURES_DIR });
    expect(text(first.stdout)).toBe(`1 ${FIXTURES_DIR}\n`);
    const second = await code(rt.src.envAfter);
    expect(text(second.stdout)).toBe('- - /tmp\n');
    // Subprocesses see the program's environment too (the C environment, not only the runtime's).
    const sub = await run(['sh', '-c', 'echo "$A"'], { env: { A: 'two' } });
    expect(text(sub.stdout)).toBe('two\n');
    const child = await code(rt.src.subprocessEnv, { env: { B: 'inherited' } });
    expect(text(child.stdout)).toBe('inherited\n');
  });

  it('does not leak module or global state between runs', async () => {
    expect((await code(rt.src.moduleLeak)).exitCode).toBe(0);
    expect(text((await code(rt.src.moduleCheck)).stdout)).toBe('clean\n');
  });

  it('gives every run its own random numbers', async () => {
    const a = await code(rt.src.random);
    const b = await code(rt.src.random);
    expect(text(a.stdout)).not.toBe(text(b.stdout));
  });

  it('kills background children after the run, also those that left the session', async () => {
    const r = await code(rt.src.background);
    expect(text(r.stdout)).toBe('started\n');
    const ps = await run(PS);
    expect(text(ps.stdout)).not.toMatch(/sleep 10[0-3]/);
  });

  it('enforces the timeout by killing the process group, and the next run works', async () => {
    const r = await code(rt.src.spinWithChild, { timeoutMs: 1000 });
    expect(r).toMatchObject({ timedOut: true, exitCode: 137, signal: 'SIGKILL', aborted: false });
    expect(r.wallMs).toBeGreaterThanOrEqual(1000);
    expect(r.wallMs).toBeLessThan(5000);
    expect(text((await run(PS)).stdout)).not.toMatch(/sleep 100/);
    expect(text((await code(rt.src.hello(2))).stdout)).toBe('hello 2\n');
  });

  it('kills a program whose host went silent (died without closing the stream); a pinging host’s is left alone', async () => {
    await expectSilentHostKilled(client(), rt.code(rt.src.hung), rt.code(rt.src.slow));
  });

  it('kills the program when the caller aborts', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const t = performance.now();
    const r = await code(rt.src.sleep30, { signal: controller.signal });
    expect(r).toMatchObject({ aborted: true, timedOut: false, exitCode: 137 });
    expect(performance.now() - t).toBeLessThan(5000);
  });

  it('delivers 10 MB of stdout whole in ≤ 64 KB chunks, or capped and flagged', async () => {
    const chunks: number[] = [];
    const whole = await code(rt.src.tenMegabytes, { onOutput: (_kind, chunk) => chunks.push(chunk.length) });
    expect(whole.stdout.length).toBe(10_000_000);
    expect(whole.stdoutTruncated).toBe(false);
    expect(Math.max(...chunks)).toBeLessThanOrEqual(64 * 1024);
    expect(chunks.reduce((a, b) => a + b, 0)).toBe(10_000_000);
    const capped = await code(rt.src.tenMegabytes, { maxOutputBytes: 1 << 20 });
    expect(capped.stdout.length).toBe(1 << 20);
    expect(capped.stdoutTruncated).toBe(true);
    expect(capped.stderrTruncated).toBe(false);
    expect(capped.exitCode).toBe(0);
  });

  it('streams output as it arrives, in order within each stream', async () => {
    const seen: { kind: StreamKind; at: number; data: string }[] = [];
    const t = performance.now();
    const r = await code(rt.src.interleaved, { onOutput: (kind, chunk) => seen.push({ kind, at: performance.now() - t, data: chunk.toString() }) });
    const numbers = (s: string, p: string): number[] => s.split('\n').filter((l) => l.startsWith(p)).map((l) => Number(l.slice(1)));
    expect(numbers(text(r.stdout), 'o')).toEqual([...Array(300).keys()]);
    expect(numbers(text(r.stderr), 'e')).toEqual([...Array(300).keys()]);
    // The first lines arrived well before the program ended: forwarded, not held until exit.
    const first = seen.find((s) => s.data.includes('o0'));
    const late = seen.find((s) => s.data.includes('late'));
    expect(first && late && late.at - first.at).toBeGreaterThan(300);
  });

  it('runs other commands as they are: sh with arguments, ls, an exit status, a signal', async () => {
    expect(text((await run(['sh', '-c', 'echo $0 $1', 'a', 'b'])).stdout)).toBe('a b\n');
    expect(text((await run(['ls', '/'])).stdout).split('\n')).toEqual(expect.arrayContaining(['opt', 'tmp', 'usr']));
    expect((await run(['sh', '-c', 'exit 42'])).exitCode).toBe(42);
    const killed = await run(['sh', '-c', 'kill -TERM $$']);
    expect([killed.exitCode, killed.signal]).toEqual([143, 'SIGTERM']);
  });

  it('refuses what it cannot run: a missing command, a file that is no program, a missing cwd, a second run at once', async () => {
    await expect(run(['no-such-command'])).rejects.toMatchObject({ name: 'RunnerRequestError', code: 'not_found' });
    await expect(run(['/etc/passwd'])).rejects.toMatchObject({ code: 'not_executable' });
    await expect(run(['true'], { cwd: '/nowhere' })).rejects.toMatchObject({ code: 'bad_cwd' });
    const slow = code(rt.src.firstAfterHalfSecond);
    const second = code(rt.src.hello(2));
    await expect(second).rejects.toBeInstanceOf(RunnerRequestError);
    await expect(second).rejects.toMatchObject({ code: 'busy' });
    expect(text((await slow).stdout)).toBe('first\n');
    expect(client().alive).toBe(true);
  });

  it('follows the span file while the program runs, sends the rest at its end, then removes it', async () => {
    const file = `/tmp/.loom-spans-test-${rt.runtime}.jsonl`;
    const { r, spans } = await runWithSpans(run, rt.code(rt.src.spanWriter(file)), file);
    expect(r.exitCode, text(r.stderr)).toBe(0);
    expect(spans.bytes).toBe('{"a":1}\n{"b":2}\n{"c":3}');
    expect(spans.leadMs).toBeGreaterThan(100);
    expect(text((await code(rt.src.fileExists(file))).stdout)).toBe('False\n');
  });

  it('reads nothing but a regular file there: a FIFO or a symlink to /dev/zero ends the run as usual', async () => {
    for (const [path, make] of [
      ['/tmp/.loom-spans-fifo', rt.src.mkfifo],
      ['/tmp/.loom-spans-zero', rt.src.symlinkZero],
    ] as const) {
      const { r, spans } = await runWithSpans(run, rt.code(make(path)), path);
      expect(r.exitCode, text(r.stderr)).toBe(0);
      expect(spans.chunks, path).toBe(0);
    }
  });

  it('runs a program file, by absolute and by relative path', async () => {
    const ext = rt.runtime === 'python' ? 'py' : 'js';
    const r = await run([rt.interpreter, `${FIXTURES_DIR}/file.${ext}`, 'a', 'b']);
    expect(text(r.stdout), text(r.stderr)).toBe('file a b main\n');
    const relative = await run([rt.interpreter, `file.${ext}`], { cwd: FIXTURES_DIR });
    expect(text(relative.stdout)).toBe('file main\n');
  });

  it(`finds modules on the run’s own module path (${rt.pathVar})`, async () => {
    const env = { [rt.pathVar]: `${client().baseEnv[rt.pathVar]}:${FIXTURES_DIR}/mylib` };
    const r = await code(rt.src.importNewpkg, { env, cwd: '/' });
    expect(text(r.stdout), text(r.stderr)).toBe('5\n');
    const without = await code(rt.src.importNewpkg, { cwd: '/' });
    expect(text(without.stderr)).toContain(rt.missingModule);
  });

  it('imports from a module path directory of the container that appeared after the runner started', async () => {
    // The Python server looked for its pre-imports in /tmp/later before it existed and cached
    // that it does not: a forked program that makes it must find what it puts there.
    const later = await sandboxWithRunner(rt.image, rt.runtime, { [rt.pathVar]: '/tmp/later' });
    onTestFinished(async () => {
      later.client.close();
      await removeSandbox(later.container);
    });
    await rt.settle((argv) => run(argv, {}, later.client));
    const r = await code(rt.src.importLater, {}, later.client);
    expect(text(r.stderr)).toBe('');
    expect(text(r.stdout)).toBe('7\n');
  });

  it('gives the trace library the run’s own trace context and span file', async () => {
    const traceId = 'ab'.repeat(16);
    const env = { TRACEPARENT: `00-${traceId}-${'cd'.repeat(8)}-01`, LOOM_TRACE_FILE: '/tmp/spans.jsonl' };
    const r = await code(rt.src.traceInside, { env });
    const record = JSON.parse(text(r.stdout).trim().split('\n')[0] ?? '{}') as unknown;
    expect(record, text(r.stderr)).toMatchObject({ name: 'inside', traceId, parentSpanId: 'cd'.repeat(8) });
  });

  it('counts the page faults of each run from RUN to EXIT, the program’s and its own', async () => {
    const small = await code(rt.src.small);
    const big = await code(rt.src.touch20MB);
    expect(small.faults, 'a runner that counts').not.toBeNull();
    expect(big.faults, 'a runner that counts').not.toBeNull();
    const minor = (r: RunResult): number => r.faults?.minor ?? Number.NaN;
    expect(minor(big) - minor(small)).toBeGreaterThan(4_000);
    expect(small.faults?.major).toBeGreaterThanOrEqual(0);
    expect(small.faults?.runner).toBeGreaterThanOrEqual(0);
  });

  it('measures CPU time and peak memory', async () => {
    const busy = await code(rt.src.cpuFor200ms);
    expect(busy.cpuMs).toBeGreaterThanOrEqual(150);
    const small = await code(rt.src.small);
    const big = await code(rt.src.allocate100MB);
    expect(big.peakRssKb - small.peakRssKb).toBeGreaterThan(90_000);
  });
});

describe.each(RUNTIMES)('%s runner killed by the program', (_name, rt) => {
  it('rejects that run with RunnerDiedError, leaves nothing of its own behind, and a new runner can be started', async () => {
    // A container of its own: two runners in one would clean each other away.
    const { container, client: victim } = await sandboxWithRunner(rt.image, rt.runtime);
    onTestFinished(() => removeSandbox(container));
    await expect(runOn(victim, rt.code(rt.src.killPid(victim.info.pid)))).rejects.toBeInstanceOf(RunnerDiedError);
    expect(victim.alive).toBe(false);
    await expect(runOn(victim, rt.code(rt.src.small))).rejects.toBeInstanceOf(RunnerDiedError);
    // Its spare noticed (its job pipe closed) and went away too.
    await sleep(1000);
    const ps = await runExec(container, { argv: PS, user: SANDBOX_USER, maxOutputBytes: 1 << 20 });
    expect(text(ps.stdout)).not.toContain(rt.runnerFile);
    const again = await RunnerClient.start(container, rt.runtime);
    if (!again) throw new Error('no new runner');
    onTestFinished(() => again.close());
    expect(text((await runOn(again, rt.code(rt.src.hello(3)))).stdout)).toBe('hello 3\n');
  });

  it('rejects the run with RunnerUnresponsiveError once the runner, stopped by the program, answers nothing; a quiet program alone does not', async () => {
    const { container, client: victim } = await sandboxWithRunner(rt.image, rt.runtime);
    onTestFinished(() => removeSandbox(container));
    victim.answerWithinMs = 2_000;
    const often = { timeoutMs: 0, pingEveryMs: 250 };
    // Quiet for twice the bound, but the runner answers every PING.
    expect(show(await runOn(victim, ['sh', '-c', 'sleep 4; echo woke'], often))).toEqual(['0', 'woke\n', '']);
    const t = performance.now();
    const err = await runOn(victim, ['sh', '-c', `kill -STOP ${victim.info.pid}; sleep 60`], often).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunnerUnresponsiveError);
    expect(String(err)).toMatch(/answered nothing for \d+ s/);
    expect((err as RunnerUnresponsiveError).programStarted).toBe(true);
    expect(performance.now() - t).toBeLessThan(2_000 + 3_000);
    expect(victim.alive).toBe(false);
  });

  it('resolves null where no runner can start', async () => {
    // No runner files in the container: the interpreters start and fail at once.
    const bare = await startSandbox(rt.image, rt.runtime, { withRunner: false });
    onTestFinished(() => removeSandbox(bare));
    expect(await RunnerClient.start(bare, 'custom')).toBeNull();
    expect(await RunnerClient.start(bare, rt.runtime)).toBeNull();
    await bare.stop({ t: 0 });
    expect(await RunnerClient.start(bare, rt.runtime)).toBeNull();
  });
});

/** The fields protocol.json gives a payload, sorted. */
function fieldsOf(payload: string): string[] {
  const found = spec.payloads.find((p) => p.name === payload);
  if (!found) throw new Error(`protocol.json has no payload ${payload}`);
  return found.fields.map((f) => f.name).sort();
}

/** A runner's frames as they come, without the client in between. */
async function rawRunner(container: Docker.Container, argv: string[]): Promise<{ send: (frame: Buffer) => void; next: () => Promise<Frame>; close: () => void }> {
  const { stream } = await openExec(container, { argv, user: SANDBOX_USER });
  const frames: Frame[] = [];
  let wake: (() => void) | undefined;
  const parser = new FrameParser((frame) => {
    frames.push({ ...frame, payload: Buffer.from(frame.payload) });
    wake?.();
  });
  const demux = new FrameDemuxer((kind, payload) => {
    if (kind === 'stdout') parser.push(payload);
  });
  stream.on('data', (chunk: Buffer) => demux.push(chunk));
  const next = async (): Promise<Frame> => {
    const deadline = Date.now() + 10_000;
    while (!frames.length) {
      if (Date.now() > deadline) throw new Error('no frame from the runner within 10 s');
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 100);
      });
    }
    return frames.shift() as Frame;
  };
  return { send: (frame) => stream.write(frame), next, close: () => stream.destroy() };
}

describe.each(RUNTIMES)('%s runner on the wire', (_name, rt) => {
  it('sends READY, STARTED, EXIT and ERROR with exactly the fields of protocol.json', async () => {
    const container = await startSandbox(rt.image, rt.runtime);
    onTestFinished(() => removeSandbox(container));
    const runner = await rawRunner(container, [rt.interpreter, rt.runtime === 'python' ? RUNNER_PY : RUNNER_JS]);
    onTestFinished(runner.close);
    const json = (frame: Frame): Record<string, unknown> => JSON.parse(frame.payload.toString('utf8')) as Record<string, unknown>;
    const expectFrame = async (type: number, id: number, payload?: string): Promise<Record<string, unknown>> => {
      const frame = await runner.next();
      expect([frame.type, frame.id]).toEqual([type, id]);
      const body = json(frame);
      if (payload) expect(Object.keys(body).sort(), payload).toEqual(fieldsOf(payload));
      return body;
    };

    expect(await expectFrame(FrameType.READY, 0, 'ReadyInfo')).toMatchObject({ runner: rt.runtime, version: PROTOCOL_VERSION });
    const request = { argv: rt.code(rt.src.hello(7)), env: { PATH: '/usr/local/bin:/usr/bin:/bin' }, cwd: '/tmp', timeoutMs: 0 };
    runner.send(Buffer.concat([encodeJsonFrame(FrameType.RUN, 1, request), encodeFrame(FrameType.STDIN_EOF, 1)]));
    await expectFrame(FrameType.STARTED, 1, 'StartedInfo');
    const out = await runner.next();
    expect([out.type, out.id, out.payload.toString('utf8')]).toEqual([FrameType.STDOUT, 1, 'hello 7\n']);
    expect(await expectFrame(FrameType.EXIT, 1, 'ExitInfo')).toMatchObject({ exitCode: 0, oomKilled: false });
    // A frame of an execution that is not the current one is ignored; a malformed RUN is refused.
    runner.send(encodeFrame(FrameType.KILL, 1));
    runner.send(encodeJsonFrame(FrameType.RUN, 2, { ...request, argv: [] }));
    expect(await expectFrame(FrameType.ERROR, 2, 'ErrorInfo')).toMatchObject({ code: 'bad_request' });
    runner.send(encodeFrame(FrameType.HELLO, 0));
    await expectFrame(FrameType.READY, 0, 'ReadyInfo');
  });
});

describe('python runner: a fork of the server', () => {
  const client = (): RunnerClient => sandbox('python').client;
  const run = (argv: string[], extra: RunExtra = {}): Promise<RunResult> => runOn(client(), argv, extra);
  /** A python sandbox of the test's own, removed when it ends: one the shared sandbox's history would change. */
  const ownSandbox = async (env: Record<string, string> = {}): Promise<RunnerClient> => {
    const { container, client: own } = await sandboxWithRunner(PYTHON.image, 'python', env);
    onTestFinished(async () => {
      own.close();
      await removeSandbox(container);
    });
    return own;
  };

  it('prints a traceback exactly as python does, from the program’s own frames', async () => {
    const err = await run(py("def f():\n  raise ValueError('bad value')\nf()"));
    expect(err.exitCode).toBe(1);
    expect(text(err.stderr)).toBe(
      'Traceback (most recent call last):\n  File "<string>", line 3, in <module>\n  File "<string>", line 2, in f\nValueError: bad value\n',
    );
  });

  // The children of the next program are forked ahead, after the last program's end ("spares",
  // loom_server.py Supply), by the forkers (loom_forker.py), forks of the runner that do nothing
  // else (one lean, one with the pre-imports); all wait beside any program that does not take a
  // spare (here one run by a fresh interpreter): that program must not be able to reach into any,
  // and one it stopped or killed must not cost the next run.
  it.each(['loom-spare', 'loom-forker'])('forks the next child ahead, out of the running program’s reach (%s)', async (name) => {
    // (The probe also looks until the spare is there.)
    await PYTHON.settle((argv) => run(argv));
    const probe = `import os, signal, time
me, server = os.getpid(), os.getppid()
for _ in range(500):
    found = []
    for p in filter(str.isdigit, os.listdir('/proc')):
        try:
            if 'loom_runner.py' in open('/proc/%s/cmdline' % p).read() and int(p) not in (me, server):
                if open('/proc/%s/comm' % p).read().strip() == os.environ['NAME']:
                    found.append(int(p))
        except OSError:
            pass
    if len(found) >= 2:
        break
    time.sleep(0.01)
def parent(p):
    stat = open('/proc/%d/stat' % p).read()
    return int(stat[stat.rindex(')') + 2:].split()[1])
print(len(found), open('/proc/%d/comm' % found[0]).read().strip(), 'children of the runner' if all(parent(p) == server for p in found) else 'a child of another')
for what in ('fd', 'environ', 'mem'):
    said = set()
    for p in found:
        try:
            os.listdir('/proc/%d/fd' % p) if what == 'fd' else open('/proc/%d/%s' % (p, what), 'rb').read(1)
            said.add('readable')
        except OSError as e:
            said.add(type(e).__name__)
    print(what, *sorted(said))
for p in found:
    os.kill(p, getattr(signal, os.environ['DO']))`;
    const stopped = await run(fresh(probe), { env: { DO: 'SIGSTOP', NAME: name } });
    expect(text(stopped.stdout), text(stopped.stderr)).toBe(`2 ${name} children of the runner\nfd PermissionError\nenviron PermissionError\nmem PermissionError\n`);
    const afterStop = await run(py("print('after stop')"));
    expect([afterStop.exitCode, text(afterStop.stdout)]).toEqual([0, 'after stop\n']);
    const killed = await run(fresh(probe), { env: { DO: 'SIGKILL', NAME: name } });
    expect(killed.exitCode, text(killed.stderr)).toBe(0);
    for (const n of [1, 2, 3]) {
      const after = await run(py(`print('after kill', ${n})`));
      expect([after.exitCode, text(after.stdout), text(after.stderr)]).toEqual([0, `after kill ${n}\n`, '']);
    }
    // Killed forkers are replaced (each when its spare is taken: here by a program of each kind):
    // the spares are their clones again.
    expect(show(await run(py("import uuid; print('full')")))).toEqual(['0', 'full\n', '']);
    await PYTHON.settle((argv) => run(argv));
    const again = await run(fresh(probe), { env: { DO: 'SIGCONT', NAME: name } });
    expect(text(again.stdout).split('\n')[0]).toBe(`2 ${name} children of the runner`);
  });

  // Each program is run by the spare its own source asks for: a lean one (only what the runner
  // imports) unless it imports a module the lean one has not, then one with the pre-imports
  // (asyncio among them). Decided by nothing that ran before: a program that kills the forker of
  // the pre-imports does not change what the next program finds.
  it('runs a program that imports only what the runner has in a lean spare, any other with the pre-imports', async () => {
    await PYTHON.settle((argv) => run(argv));
    const has = "print(sorted(m for m in ('asyncio', 'decimal', 'uuid') if m in sys.modules))";
    const lean = await run(py(`import sys, json\n${has}`));
    expect(show(lean)).toEqual(['0', "[]\n", '']);
    const full = await run(py(`import sys, uuid\n${has}`));
    expect(show(full)).toEqual(['0', "['asyncio', 'decimal', 'uuid']\n", '']);
    // A file is read for its imports as -c code is.
    expect(show(await run(['python3', `${FIXTURES_DIR}/lean.py`]))).toEqual(['0', "[]\n", '']);
    expect(show(await run(['python3', `${FIXTURES_DIR}/full.py`]))).toEqual(['0', "['asyncio', 'decimal', 'uuid']\n", '']);
    // The forkers killed by a program, by a fresh interpreter or a forked one of either kind: the
    // next full program waits for a new one rather than run without the modules.
    const kill = "import os, signal\nfor p in filter(str.isdigit, os.listdir('/proc')):\n  try:\n    if open('/proc/%s/comm' % p).read().strip() == 'loom-forker': os.kill(int(p), signal.SIGKILL)\n  except OSError: pass";
    for (const killer of [fresh(kill), py(kill), py(`import uuid\n${kill}`)]) {
      expect(show(await run(killer))).toEqual(['0', '', '']);
      const after = await run(py(`import sys, uuid\n${has}`));
      expect(show(after)).toEqual(['0', "['asyncio', 'decimal', 'uuid']\n", '']);
      expect(show(await run(py(`import sys\n${has}`)))).toEqual(['0', "[]\n", '']);
    }
  });

  // What the runner needs only for other kinds of run is not imported before them (threading's
  // after-fork hook alone wrote ~130 pages in every spare), nor found by a Python program after.
  it('keeps out of a lean program the modules the runner needs only for other kinds of run, also after one ran', async () => {
    const has = "import sys\nprint(sorted(m for m in ('threading', 'subprocess', 'hashlib', 'shutil') if m in sys.modules))";
    expect(show(await run(py(has)))).toEqual(['0', '[]\n', '']);
    expect(show(await run(['sh', '-c', 'echo not python']))).toEqual(['0', 'not python\n', '']);
    expect(show(await run(py(has)))).toEqual(['0', '[]\n', '']);
    // A program that imports one of them gets the spare with the pre-imports, which have them all.
    expect(show(await run(py(`import subprocess\n${has}`)))).toEqual(['0', "['hashlib', 'shutil', 'subprocess', 'threading']\n", '']);
  });

  // Every page a forker writes while its last clone lives is a copy: its loop is in C
  // (resources/native/forker.c), which writes a few per clone where the same loop in Python wrote ~70.
  it('forks each spare from a forker that writes a few pages per clone', async () => {
    const own = await ownSandbox();
    const faults = "import json, os\nd = {}\nfor p in filter(str.isdigit, os.listdir('/proc')):\n  try:\n    s = open('/proc/%s/stat' % p).read()\n  except OSError:\n    continue\n  if '(loom-forker)' in s: d[p] = int(s[s.rindex(')') + 2:].split()[7])\nprint(json.dumps(d))";
    const read = async (): Promise<Record<string, number>> => JSON.parse(text((await runOn(own, py(faults))).stdout)) as Record<string, number>;
    await PYTHON.settle((argv) => runOn(own, argv));
    const before = await read();
    const runs = 30;
    for (let n = 0; n < runs; n++) expect(show(await runOn(own, py('pass')))).toEqual(['0', '', '']);
    const after = await read();
    // The lean forker made a clone for each run (the two reads too); the full one, none. (A clone
    // has the forker's name until it names itself: one on its way is in one read only.)
    const forkers = Object.keys(before).filter((pid) => pid in after);
    const perClone = Math.max(...forkers.map((pid) => (after[pid]! - before[pid]!) / (runs + 1)));
    expect(forkers, 'the lean forker and the full one').toHaveLength(2);
    expect(perClone, `faults per clone of the forker: ${JSON.stringify({ before, after })}`).toBeLessThan(15);
  });

  // fork() copies the page table entries of a code mapping only if it has an anonymous page,
  // which the forker gives each one (loom_forker._files_into_clones): else a clone faults its
  // code in, 16 pages at a time (~90 faults a warm hello). From a forker's second clone: the
  // first tells it whether clones are the runner's children (not under gVisor, where it does not).
  it('starts each spare with all of the interpreter’s code mapped', async () => {
    const own = await ownSandbox();
    await PYTHON.settle((argv) => runOn(own, argv));
    await runOn(own, py('pass')); // (the first clone)
    const code = "import os, sys\nexe, cur, kb = os.path.realpath(sys.executable), None, {}\nfor line in open('/proc/self/smaps'):\n  f = line.split()\n  if '-' in f[0]:\n    cur = f[1] == 'r-xp' and f[-1] == exe\n  elif cur and f[0] in ('Size:', 'Rss:'):\n    kb[f[0]] = int(f[1])\nprint(kb['Rss:'], kb['Size:'])";
    for (let n = 0; n < 3; n++) {
      const [rss, size] = text((await runOn(own, py(code))).stdout).split(' ').map(Number);
      expect(size).toBeGreaterThan(0);
      expect(rss, 'KB of the interpreter’s code mapped in the program, of all').toBe(size);
    }
  });

  // Python compiles the runner's source in the process that runs it, and the compiler's working
  // memory stays there: every fork would copy it and every exit unmap it (loom_runner.py).
  it('forks from a runner that holds no compiler leftovers: a lean child has at most 6 MB more anonymous memory than a fresh interpreter (12 with them)', async () => {
    // (A sandbox of its own: a forker made again later is a fork of a runner that has served.)
    const own = await ownSandbox();
    const anon = "print(next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('RssAnon:')))";
    const lean = await runOn(own, py(anon));
    const bare = await runOn(own, fresh(anon));
    const kb = (r: RunResult): number => Number(text(r.stdout));
    expect(kb(bare), text(bare.stderr)).toBeGreaterThan(0);
    expect(kb(lean) - kb(bare), `lean child ${kb(lean)} KB, fresh interpreter ${kb(bare)} KB`).toBeLessThan(6 * 1024);
  });

  // A forker too late to answer after it has worked (a loaded machine; here a fault injected
  // for the container: each clone but a forker's first waits 3 s, past TAKE_SECONDS) is dropped
  // and made again. The container serves on (it is not retired), and every program still runs in
  // the spare its own source asks for.
  it('drops a forker that answers too late and makes another: the container serves on, each program in its kind of spare', async () => {
    const slow = await ownSandbox({ LOOM_TEST_FORKER_LATE: '3' });
    const has = "print(sorted(m for m in ('asyncio', 'uuid') if m in sys.modules))";
    for (let n = 0; n < 3; n++) {
      expect(show(await runOn(slow, py(`import sys, uuid\n${has}`)))).toEqual(['0', "['asyncio', 'uuid']\n", '']);
      expect(show(await runOn(slow, py(`import sys\n${has}`)))).toEqual(['0', '[]\n', '']);
    }
  }, 120_000);

  it('builds sys.path from the run’s own PYTHONPATH, in its order', async () => {
    const env = { PYTHONPATH: `${client().baseEnv.PYTHONPATH}:${FIXTURES_DIR}/mylib` };
    const r = await run(py('import sys, json; print(json.dumps(sys.path))'), { env, cwd: '/' });
    const expected = [...(client().baseEnv.PYTHONPATH ?? '').split(':'), `${FIXTURES_DIR}/mylib`];
    expect((JSON.parse(text(r.stdout)) as string[]).slice(0, expected.length + 1)).toEqual(['', ...expected]);
  });
});

describe('node runner: the spare', () => {
  const run = (argv: string[], extra: RunExtra = {}): Promise<RunResult> => runOn(sandbox('node').client, argv, extra);

  it('reports what node does: process.exitCode, a throw with its stack, an unhandled rejection, a handled exception', async () => {
    expect((await run(js('process.exitCode = 5; console.log("set")'))).exitCode).toBe(5);
    const thrown = await run(js("function f() { throw new Error('boom') }\nf()"));
    expect(thrown.exitCode).toBe(1);
    expect(text(thrown.stderr)).toMatch(/^\[eval\]:1\nfunction f\(\) \{ throw new Error\('boom'\) \}\n {15}\^\n\nError: boom\n {4}at f \(\[eval\]:1:22\)\n {4}at \[eval\]:2:1\n/);
    expect(text(thrown.stderr)).toMatch(/\n\nNode\.js v\d+\.\d+\.\d+\n$/);
    const rejected = await run(js("Promise.reject(new Error('rejected'))"));
    expect(rejected.exitCode).toBe(1);
    expect(text(rejected.stderr)).toContain('Error: rejected');
    const handled = await run(js("process.on('uncaughtException', (e) => { console.log('caught', e.message); process.exitCode = 9 }); throw new Error('x')"));
    expect([handled.exitCode, text(handled.stdout)]).toEqual([9, 'caught x\n']);
  });

  it('runs an ES module file', async () => {
    const esm = await run(['node', 'm.mjs'], { cwd: FIXTURES_DIR });
    expect(text(esm.stdout)).toBe(`esm / file://${FIXTURES_DIR}/m.mjs\n`);
  });

  it('runs no program beside a waiting spare (it could write the next job into its pipe)', async () => {
    // (Not counting the program itself, a former spare.)
    const spares = "require('fs').readdirSync('/proc').filter((p) => /^\\d+$/.test(p) && p !== String(process.pid)).filter((p) => { try { return require('fs').readFileSync('/proc/' + p + '/cmdline', 'utf8').includes('--loom-spare'); } catch { return false; } }).length";
    // In a spare, past the moment the next spare used to start (100 ms in); then by spawn.
    const inSpare = await run(js(`setTimeout(() => console.log(${spares}), 300)`));
    expect(text(inSpare.stdout)).toBe('0\n');
    const spawned = await run(['node', '--no-warnings', '-e', `console.log(${spares})`]);
    expect(text(spawned.stdout)).toBe('0\n');
    expect(text((await run(js("console.log('next')"))).stdout)).toBe('next\n');
  });
});
