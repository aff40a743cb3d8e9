// The Node runner (resources/runner/loom-runner.js) in a real node sandbox made the way the
// engine makes them: nobody, read-only root, /tmp only, no network, 1 CPU, 256 MB.
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { SANDBOX_USER } from '../container';
import { runExec } from '../exec';
import { requireEngineAndImages, text } from '../test-support';
import { RunnerClient, RunnerDiedError, type RunResult } from './client';
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

const IMAGE = 'node:20-slim';
let container: Docker.Container;
let client: RunnerClient;
/** A twin of `container` (made the same way) with no runner in it: docker exec's side of comparisons. */
let twin: Docker.Container;

// Files the runs use: every run starts with an empty /tmp, so they come from a read-only mount.
const FIXTURES = {
  'f.js': 'console.log(process.argv.slice(1), require.main === module, __filename, module.id, process.cwd())',
  'g.js': 'console.log(process.argv.slice(2).join(","), require.main === module)',
  'm.mjs': 'import { sep } from "node:path"; console.log("esm", sep, import.meta.url)',
};

beforeAll(async () => {
  await requireEngineAndImages();
  ({ container, client } = await sandboxWithRunner(IMAGE, 'node', {}, FIXTURES));
  twin = await startSandbox(IMAGE, 'node', { fixtures: FIXTURES });
});

afterAll(async () => {
  await removeSandbox(twin);
  await removeSandboxWithRunner(container, client);
});

function run(argv: string[], extra: RunExtra = {}, on: RunnerClient = client): Promise<RunResult> {
  return runOn(on, argv, extra);
}
const js = (code: string, ...args: string[]): string[] => ['node', '-e', code, ...args];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('node runner', () => {
  it('follows the span file while the program runs, sends the rest at its end, then removes it', async () => {
    const file = '/tmp/.loom-spans-test-js.jsonl';
    const code = `const fs = require('fs');
const f = fs.openSync('${file}', 'a');
fs.writeSync(f, '{"a":1}\\n');
setTimeout(() => {
  fs.writeSync(f, '{"b":');
  setTimeout(() => fs.writeSync(f, '2}\\n{"c":3}'), 50);
}, 300);`;
    const { r, spans } = await runWithSpans(run, js(code), file);
    expect(r.exitCode, text(r.stderr)).toBe(0);
    expect(spans.bytes).toBe('{"a":1}\n{"b":2}\n{"c":3}');
    expect(spans.leadMs).toBeGreaterThan(100);
    const gone = await run(js(`console.log(require('fs').existsSync('${file}'))`));
    expect(text(gone.stdout)).toBe('false\n');
  });

  it('reads nothing but a regular file there: a symlink to /dev/zero ends the run as usual', async () => {
    const zero = await runWithSpans(run, js("require('fs').symlinkSync('/dev/zero', '/tmp/.loom-spans-zero')"), '/tmp/.loom-spans-zero');
    expect(zero.r.exitCode, text(zero.r.stderr)).toBe(0);
    expect(zero.spans.chunks).toBe(0);
  });

  it('says READY as the node runner with the container environment', () => {
    expect(client.info.runner).toBe('node');
    expect(client.baseEnv.NODE_PATH).toContain('/opt/loom/lib/trace/node');
  });

  it('runs node -e in the spare: 1+1', async () => {
    const r = await run(js('console.log(1+1)'));
    expect(text(r.stdout)).toBe('2\n');
    expect(r).toMatchObject({ exitCode: 0, signal: null, timedOut: false });
  });

  it('runs 100 sequential hellos, all correct (latency logged)', async () => {
    const times: number[] = [];
    for (let i = 0; i < 100; i++) {
      const t = performance.now();
      const r = await run(js(`console.log('hello', ${i})`));
      times.push(performance.now() - t);
      expect(text(r.stdout)).toBe(`hello ${i}\n`);
    }
    // Back to back, each run waits for the spare the previous one started: that is node's
    // start-up time. With a pause between runs the spare is ready and only the program counts.
    const paced: number[] = [];
    for (let i = 0; i < 20; i++) {
      await sleep(250);
      const t = performance.now();
      await run(js(`console.log('hello', ${i})`));
      paced.push(performance.now() - t);
    }
    const execs: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      await runExec(container, { argv: js("console.log('hello')"), user: SANDBOX_USER, maxOutputBytes: 1024 });
      execs.push(performance.now() - t);
    }
    for (const list of [times, paced, execs]) list.sort((a, b) => a - b);
    console.log(
      `node runner, 100 back-to-back hellos: p50 ${percentile(times, 50).toFixed(2)} ms, p99 ${percentile(times, 99).toFixed(2)} ms; ` +
        `20 hellos 250 ms apart: p50 ${percentile(paced, 50).toFixed(2)} ms, p99 ${percentile(paced, 99).toFixed(2)} ms; ` +
        `docker exec p50 ${percentile(execs, 50).toFixed(2)} ms`,
    );
  });

  it('does not leak globals, modules or env between runs', async () => {
    await run(js("globalThis.x = 1; require('fs').leaked = true; process.env.LEAK = 'yes'"), { env: { A: '1' } });
    const r = await run(js("console.log(typeof globalThis.x, require('fs').leaked, process.env.LEAK, process.env.A)"));
    expect(text(r.stdout)).toBe('undefined undefined undefined undefined\n');
  });

  it('reports exit codes: process.exit(4), process.exitCode, a throw with its stack, an unhandled rejection', async () => {
    expect((await run(js('process.exit(4)'))).exitCode).toBe(4);
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

  it('looks like node -e and node FILE to the program, as under docker exec', async () => {
    const programs: string[][] = [
      js('console.log(process.argv, process.argv0, process.execArgv, __filename, __dirname, module.id, module.filename, typeof require, require.main, this === globalThis, typeof exports)', 'a', 'b'),
      // (Less HOSTNAME, which is the container's id: the twin's differs.)
      js("console.log(Object.entries(process.env).filter(([k]) => k !== 'HOSTNAME').sort())"),
      js("console.log(require('module').globalPaths.slice(0, 2), require.resolve.paths('x').slice(0, 2))"),
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
    ];
    for (const argv of programs) {
      const stdin = Buffer.from('abc\ndef');
      const viaRunner = await run(argv, { stdin });
      const viaExec = await runExec(twin, { argv, user: SANDBOX_USER, workingDir: '/tmp', stdin, maxOutputBytes: 1 << 20 });
      const show = (r: { exitCode: number; stdout: Buffer; stderr: Buffer }): string[] => [String(r.exitCode), text(r.stdout), text(r.stderr)];
      expect(show(viaRunner), argv.join(' ')).toEqual(show(viaExec));
    }
  });

  it('delivers stdin then EOF', async () => {
    const r = await run(js("let s = ''; process.stdin.setEncoding('utf8').on('data', (d) => (s += d)).on('end', () => console.log(s.toUpperCase()))"), {
      stdin: Buffer.from('hello stdin'),
    });
    expect(text(r.stdout)).toBe('HELLO STDIN\n');
  });

  it('gives the run its env and cwd', async () => {
    const r = await run(js("console.log(process.env.GREETING, process.cwd(), require('child_process').execSync('echo $GREETING').toString().trim())"), {
      env: { GREETING: 'hi' },
      cwd: FIXTURES_DIR,
    });
    expect(text(r.stdout)).toBe(`hi ${FIXTURES_DIR} hi\n`);
  });

  it('kills background children after the run', async () => {
    const r = await run(
      js(
        "const { spawn } = require('child_process');\n" +
          "spawn('sleep', ['100'], { stdio: 'ignore' }).unref();\n" +
          "spawn('sleep', ['101'], { stdio: 'ignore', detached: true }).unref();\n" +
          "spawn('sh', ['-c', 'sleep 102 & sleep 103 & wait'], { stdio: 'ignore', detached: true }).unref();\n" +
          "console.log('started')",
      ),
    );
    expect(text(r.stdout)).toBe('started\n');
    const ps = await run(['sh', '-c', 'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline; echo; done']);
    expect(text(ps.stdout)).not.toMatch(/sleep 10[0-3]/);
  });

  it('runs node FILE, with require.main', async () => {
    const r = await run(['node', `${FIXTURES_DIR}/g.js`, 'a', 'b']);
    expect(text(r.stdout)).toBe('a,b true\n');
    const esm = await run(['node', 'm.mjs'], { cwd: FIXTURES_DIR });
    expect(text(esm.stdout)).toBe(`esm / file://${FIXTURES_DIR}/m.mjs\n`);
  });

  it('enforces the timeout on the whole group, and the next run works', async () => {
    const r = await run(js("require('child_process').spawn('sleep', ['100']); while (true) {}"), { timeoutMs: 1000 });
    expect(r).toMatchObject({ timedOut: true, exitCode: 137, signal: 'SIGKILL' });
    expect(r.wallMs).toBeLessThan(5000);
    const next = await run(['sh', '-c', 'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline; echo; done']);
    expect(text(next.stdout)).not.toMatch(/sleep 100/);
    expect(text((await run(js("console.log('after')"))).stdout)).toBe('after\n');
  });

  it('kills a program whose host went silent (died without closing the stream); a pinging host’s is left alone', async () => {
    await expectSilentHostKilled(client, js("console.log('started'); setTimeout(() => {}, 30000)"), js("setTimeout(() => console.log('done'), 2500)"));
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

  it('requires modules from NODE_PATH: the trace library', async () => {
    const r = await run(
      js("const { tracer, traceSpanSync } = require('loom-trace.js'); traceSpanSync('x', () => 1); console.log(tracer.traceId); console.log(require('fs').readFileSync('/tmp/nspans.jsonl', 'utf8').trim())"),
      { env: { LOOM_TRACE_ID: 'ef'.repeat(16), LOOM_SPAN_ID: '12'.repeat(8), LOOM_TRACE_FILE: '/tmp/nspans.jsonl' } },
    );
    const [traceId, spans] = text(r.stdout).split('\n');
    expect(traceId).toBe('ef'.repeat(16));
    expect(JSON.parse(spans ?? '')).toMatchObject({ name: 'x', traceId: 'ef'.repeat(16), parentSpanId: '12'.repeat(8) });
  });

  it('delivers 10 MB of stdout whole', async () => {
    const r = await run(js("process.stdout.write('x'.repeat(10_000_000))"));
    expect(r.stdout.length).toBe(10_000_000);
    expect(r.stdoutTruncated).toBe(false);
  });

  it('spawns other commands as they are, and refuses missing ones', async () => {
    expect(text((await run(['sh', '-c', 'echo $0 $1', 'a', 'b'])).stdout)).toBe('a b\n');
    expect(text((await run(['ls', '/'])).stdout).split('\n')).toEqual(expect.arrayContaining(['opt', 'tmp']));
    await expect(run(['python3', '-c', 'print(1)'])).rejects.toMatchObject({ name: 'RunnerRequestError', code: 'not_found' });
  });

  it('measures CPU time and peak memory', async () => {
    const busy = await run(js('const t = process.cpuUsage(); while (process.cpuUsage(t).user < 200_000) {}'));
    expect(busy.cpuMs).toBeGreaterThanOrEqual(150);
    const small = await run(js('1'));
    const big = await run(js('const b = Buffer.alloc(100 * 1024 * 1024, 1); console.log(b.length)'));
    expect(big.peakRssKb - small.peakRssKb).toBeGreaterThan(90_000);
  });
});

describe('node runner killed by the program', () => {
  it('rejects that run with RunnerDiedError', async () => {
    // A container of its own: two runners in one would clean each other away.
    const { container, client: victim } = await sandboxWithRunner(IMAGE, 'node');
    onTestFinished(() => removeSandbox(container));
    await expect(run(js(`process.kill(${victim.info.pid}, 'SIGKILL'); setTimeout(() => {}, 200)`), {}, victim)).rejects.toBeInstanceOf(RunnerDiedError);
    expect(victim.alive).toBe(false);
    // Its spare noticed (fd 3 closed) and went away too (and this file's runner discards its own
    // before it starts sh: no program runs beside a spare).
    await sleep(1000);
    const ps = await runExec(container, { argv: ['sh', '-c', 'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline; echo; done'], user: SANDBOX_USER, maxOutputBytes: 1 << 20 });
    expect(text(ps.stdout)).not.toContain('--loom-spare');
  });
});
