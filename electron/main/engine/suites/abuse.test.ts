// Hostile programs against the real engine: each abuse must be contained, reported clearly, and
// leave its config's pool usable (the next run on the SAME config works and finds nothing the
// abuser left behind) and the host fine. Cases that matter for both ways a program runs are run
// through the in-container runner (the normal executor) and through docker exec (an executor
// without the runner).
import type { MessageInitShape } from '@bufbuild/protobuf';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DockerBackendConfigSchema,
  type DockerBackendConfig,
  ExecuteRequestSchema,
  ResourceLimitsSchema,
  type IsolationLevel,
  RuntimeType,
  SpanSource,
  type ExecuteResponse,
} from '../../../../shared/gen/loom/v1/docker_pb';
import { ValidationError } from '../errors';
import { ContainerStoppedError } from '../container/exec';
import { createExecutor, type ExecuteOptions, type ExecuteRequestInput, type Executor } from '../executor';
import type { Isolation } from '../../../../shared/isolation';
import { gvisorHostPidsLimit } from '../container/isolation';
import { pidsCurrentFile, readTasks } from '../container/host-tasks';
import { docker, ISOLATION_CASES, PY_FIND_RUNNER, requireEngineAndImages, requireGvisor, text, withIsolation } from '../testing/test-support';

// A config as a plain object (the init shape, not the message).
type Config = Exclude<MessageInitShape<typeof DockerBackendConfigSchema>, DockerBackendConfig>;
type Path = 'runner' | 'exec';
const PATHS: Path[] = ['runner', 'exec'];

const RUN_ID = randomBytes(3).toString('hex');
// A variable of the host (test) process that must never reach a sandbox. LOOM_* is reserved.
const SECRET_NAME = `HOST_SECRET_${randomBytes(4).toString('hex').toUpperCase()}`;
const SECRET_VALUE = `leak-${randomBytes(8).toString('hex')}`;
const MB = 1024 * 1024;

/** The executor of each path: 'exec' starts no in-container runner, so every program goes by docker exec. */
let base: Record<Path, Executor>;
/**
 * The executors of the isolation level under test (every case runs once per level), set as each
 * level's block starts: the cases of a file run one after another.
 */
let executors: Record<Path, Executor>;
let level: IsolationLevel;

beforeAll(async () => {
  await requireEngineAndImages();
  await requireGvisor();
  process.env[SECRET_NAME] = SECRET_VALUE;
  base = {
    runner: await createExecutor({ minIdlePerConfig: 0 }),
    exec: await createExecutor({ minIdlePerConfig: 0, runner: false }),
  };
});

afterAll(async () => {
  delete process.env[SECRET_NAME];
  await base?.runner.close();
  await base?.exec.close();
  // What each case measured, for the record.
  if (measured.length) console.log(`abuse suite measurements:\n  ${measured.join('\n  ')}`);
});

const measured: string[] = [];
const note = (line: string): void => void measured.push(line);

const py = (code: string): string[] => ['python3', '-c', code];

/**
 * A config of one case's own for one path (run it on executors[path]): its container is made by
 * a first run, which checks that it goes that way (and, on the exec path, starts the agent).
 */
async function configFor(label: string, path: Path, extra: Omit<Config, 'name'> = {}): Promise<Config> {
  const config: Config = { ...extra, name: `abuse-${label}-${path}-${RUN_ID}` };
  const r = await executors[path].execute({ command: py('pass'), config });
  expect(r.usage?.via, `the first run of ${config.name}`).toBe(path);
  return config;
}

async function timed(on: Executor, request: ExecuteRequestInput, options?: ExecuteOptions): Promise<{ r: ExecuteResponse; ms: number }> {
  const started = Date.now();
  const r = await on.execute(request, options);
  return { r, ms: Date.now() - started };
}

interface Proc {
  pid: number;
  ppid: number;
  state: string;
  /** The name in /proc/PID/stat (comm). */
  comm: string;
  cmd: string;
}

// Lists every process of the container but itself (pid, ppid, state, comm, cmdline).
const PROCESS_PROBE = `
import json, os
me = os.getpid()
procs = []
for p in os.listdir('/proc'):
    if not p.isdigit() or int(p) == me:
        continue
    try:
        with open('/proc/%s/cmdline' % p, 'rb') as f:
            cmd = f.read().replace(b'\\0', b' ').decode('utf-8', 'replace').strip()
        with open('/proc/%s/stat' % p, 'rb') as f:
            st = f.read()
    except OSError:
        continue
    fields = st[st.rindex(b')') + 2:].split()
    comm = st[st.index(b'(') + 1:st.rindex(b')')].decode('utf-8', 'replace')
    procs.append({'pid': int(p), 'ppid': int(fields[1]), 'state': fields[0].decode(), 'comm': comm, 'cmd': cmd})
print(json.dumps(procs))
`;

const HELPER = /^(python3|node) \/opt\/loom\/lib\/(runner\/loom_runner\.py|runner\/loom-runner\.js|agent\/loom_agent\.py|agent\/loom-agent\.js)$/;
/** loom-init: PID 1, and the clean-up after each run (started ahead by the runner, or by docker exec). */
const INIT = /^\/opt\/loom\/lib\/native\/bin\/loom-init-\w+ /;

/**
 * Loom's own processes: loom-init (pid 1); the runner, its oldest child (runner path; on the exec
 * path pid 1 idles); the runner's next clean-up (loom-init --clean, its child); and processes
 * started by docker exec, whose parent is outside the container (ppid 0), which no program can
 * arrange: the agent, a clean-up. A fork of the runner (its cmdline is the runner's) is not
 * mistaken for it: it is not the oldest child of pid 1. The Python runner's spare (the child
 * forked for the next program, named loom-spare while it waits) and its forker (loom-forker) are
 * the runner's children of those names.
 */
function isLoomProcess(p: Proc, all: Proc[]): boolean {
  if (p.pid === 1) return true;
  // 'runc init': a docker exec being set up right now (the agent of a new exec-path container).
  if (p.ppid === 0 && (HELPER.test(p.cmd) || INIT.test(p.cmd) || p.cmd === 'runc init')) return true;
  const oldestChildOfInit = Math.min(...all.filter((q) => q.ppid === 1).map((q) => q.pid));
  const isRunner = (q: Proc): boolean => HELPER.test(q.cmd) && ((q.ppid === 1 && q.pid === oldestChildOfInit) || q.ppid === 0);
  if (isRunner(p)) return true;
  const parent = all.find((q) => q.pid === p.ppid);
  if (!parent || !isRunner(parent)) return false;
  // The spare, named, or just forked and not yet named (its comm still the runner's); or the
  // clean-up mid-exec (comm already loom-init's, cmdline still the runner's). Under gVisor a fork
  // and an exec take long enough for the next program to see either.
  const forkOfRunner = HELPER.test(p.cmd) && (p.comm === 'loom-spare' || p.comm === 'loom-forker' || p.comm === parent.comm || p.comm.startsWith('loom-init'));
  return forkOfRunner || INIT.test(p.cmd);
}

/** The host is fine: the engine answers and the host can still start processes. */
async function expectHostFine(): Promise<void> {
  await docker.ping();
  expect(spawnSync('true').status).toBe(0);
}

/**
 * The pool after an abuse: a normal program on the SAME config (and executor) works, and it finds
 * nothing but Loom's own processes in its container.
 */
async function expectNextRunWorks(on: Executor, config: Config, label: string, withinMs: number): Promise<ExecuteResponse> {
  const { r, ms } = await timed(on, { command: py(PROCESS_PROBE), config, timeoutSeconds: 30 });
  expect(r.exitCode, text(r.stderr)).toBe(0);
  expect(r.timedOut).toBe(false);
  const procs = JSON.parse(text(r.stdout)) as Proc[];
  const leftovers = procs.filter((p) => !isLoomProcess(p, procs));
  note(`${label}: next run ${ms} ms via ${r.usage?.via}, ${leftovers.length} leftover process(es)${leftovers.length ? `: ${leftovers.slice(0, 3).map((p) => `${p.pid}<${p.ppid} ${p.state} '${p.cmd}'`).join(', ')}` : ''}`);
  expect(leftovers).toEqual([]);
  expect(ms).toBeLessThan(withinMs);
  await expectHostFine();
  return r;
}

describe.each(ISOLATION_CASES)('under %s', (isolation: Isolation, levelOfBlock) => {
  beforeAll(() => {
    level = levelOfBlock;
    executors = { runner: withIsolation(base.runner, level), exec: withIsolation(base.exec, level) };
  });

  describe('abuse: resource exhaustion', () => {
    for (const path of PATHS) {
      it(`contains a true fork bomb (pids 64, 5 s timeout) via ${path}, and leaves no process behind`, async () => {
        const config = await configFor('forkbomb', path, { resourceLimits: { pidsLimit: 64 } });
        // Every process forks forever; failed forks (the pids limit) are shrugged off, so the
        // processes never die on their own.
        const bomb = 'import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass';
        // Under gVisor the bomb's host tasks can outlive it (container/host-tasks.ts), and three
        // bombs in one sandbox used to reach its engine pids limit, ending it under whichever
        // program ran next: so three bombs there, each followed by a program that must work.
        const rounds = isolation === 'gvisor' && path === 'runner' ? 3 : 1;
        for (let round = 1; round <= rounds; round++) {
          let bombed: Awaited<ReturnType<typeof timed>>;
          try {
            bombed = await timed(executors[path], { command: py(bomb), config, timeoutSeconds: 5 });
          } catch (err) {
            // Under gVisor a bomb can also take its own sandbox past the engine's pids limit (its
            // host tasks: isolation.ts gvisorHostPidsLimit), where runsc ends the sandbox under
            // the bomb: the run is reported as its container stopping. Contained all the same.
            if (isolation !== 'gvisor' || !(err instanceof ContainerStoppedError)) throw err;
            expect(err.message).toMatch(/gVisor sandbox ended.*process limit/);
            note(`fork bomb ${round} via ${path}: its sandbox ended under it (${err.message})`);
            await expectNextRunWorks(executors[path], config, `fork bomb ${round} via ${path}`, 10_000);
            continue;
          }
          const { r, ms } = bombed;
          note(`fork bomb ${round} via ${path}: exit ${r.exitCode}, timedOut ${r.timedOut}, oomKilled ${r.oomKilled}, ${ms} ms (run ${Math.round(r.timings?.runMs ?? 0)} ms)`);
          expect(r.exitCode).toBe(137);
          expect(r.timings?.runMs).toBeLessThan(5000 + 3000);
          // 64 Python processes can pass the 512 MB limit before the timeout. Under runc the OOM
          // killer then ends one of them and the bomb goes on to its timeout; under gVisor the
          // limit holds for the sandbox as a whole, which it ends (README "Isolation levels"):
          // reported as the program's OOM kill. Contained either way.
          const sandboxOom = isolation === 'gvisor' && r.oomKilled;
          if (!sandboxOom) {
            expect(r.usage?.via).toBe(path);
            expect(r.timedOut).toBe(true);
          }
          const next = await expectNextRunWorks(executors[path], config, `fork bomb ${round} via ${path}`, 10_000);
          const reused = next.containerId === r.containerId;
          // The runner kills the program's process group and keeps the container; docker exec
          // cannot kill a program, so its container is killed and replaced.
          if (path === 'exec' || isolation === 'runc') expect(reused).toBe(path === 'runner');
          else if (reused) {
            // A gVisor sandbox is kept only while its host tasks are below half its limit.
            const file = await pidsCurrentFile(docker.getContainer(r.containerId));
            const tasks = file ? await readTasks(file) : null;
            note(`fork bomb ${round} via ${path}: sandbox kept with ${tasks} host tasks`);
            expect(tasks).not.toBeNull();
            expect(tasks).toBeLessThanOrEqual(gvisorHostPidsLimit(64) / 2);
          }
        }
      });
    }

    for (const path of PATHS) {
      it(`kills a memory bomb under 128 MB via ${path} and reports oomKilled`, async () => {
        const config = await configFor('membomb', path, { resourceLimits: { memoryMb: 128n } });
        const bomb = "blocks = []\nwhile True:\n    blocks.append(bytearray(b'x') * (10 << 20))";
        const { r, ms } = await timed(executors[path], { command: py(bomb), config, timeoutSeconds: 30 });
        note(`memory bomb via ${path}: exit ${r.exitCode}, oomKilled ${r.oomKilled}, timedOut ${r.timedOut}, ${ms} ms`);
        expect(r.usage?.via).toBe(path);
        expect(r.exitCode).toBe(137);
        expect(r.oomKilled).toBe(true);
        expect(r.timedOut).toBe(false);
        await expectNextRunWorks(executors[path], config, `memory bomb via ${path}`, 10_000);
      });
    }

    describe('disk', () => {
      let config: Config;

      it('stops filling /tmp at storage_mb (32 MB) and /dev/shm before 64 MB with ENOSPC', async () => {
        config = await configFor('diskfill', 'runner', { resourceLimits: { storageMb: 32n } });
        const fill = `
import errno, json
def fill(path, limit_mb):
    written = 0
    try:
        with open(path, 'wb') as f:
            for _ in range(limit_mb):
                f.write(b'x' * (1 << 20))
                f.flush()
                written += 1 << 20
        return [written, 'no error']
    except OSError as e:
        return [written, errno.errorcode.get(e.errno, str(e.errno))]
print(json.dumps({'tmp': fill('/tmp/fill', 100), 'shm': fill('/dev/shm/fill', 100)}))
`;
        const { r } = await timed(executors.runner, { command: py(fill), config, timeoutSeconds: 30 });
        const out = JSON.parse(text(r.stdout)) as { tmp: [number, string]; shm: [number, string] };
        note(`disk fill: /tmp ${out.tmp[1]} after ${(out.tmp[0] / MB).toFixed(1)} MB, /dev/shm ${out.shm[1]} after ${(out.shm[0] / MB).toFixed(1)} MB`);
        expect(out.tmp[1]).toBe('ENOSPC');
        expect(out.tmp[0]).toBeLessThanOrEqual(32 * MB);
        expect(out.shm[1]).toBe('ENOSPC');
        expect(out.shm[0]).toBeLessThan(64 * MB);
        await expectNextRunWorks(executors.runner, config, 'disk fill', 10_000);
      });

      it('gives the next execution on that config a usable /tmp (and its spans arrive)', async () => {
        // The previous execution filled /tmp and /dev/shm and exited: what it left must not
        // break the next program (nor the span file, which lives in /tmp).
        const next = `
import errno
from loom_trace import trace_span
with trace_span('after_disk_fill'):
    for path in ('/tmp/small', '/dev/shm/small'):
        try:
            with open(path, 'wb') as f:
                f.write(b'y' * (1 << 20))
            print(path, 'ok')
        except OSError as e:
            print(path, errno.errorcode.get(e.errno))
`;
        const r = await executors.runner.execute({ command: py(next), config, timeoutSeconds: 30 });
        const spans = r.spans.filter((s) => s.source === SpanSource.CONTAINER).map((s) => s.name);
        note(`disk fill, next run: ${text(r.stdout).trim().replace(/\n/g, '; ')}; container spans [${spans.join(', ')}]`);
        expect(text(r.stdout)).toBe('/tmp/small ok\n/dev/shm/small ok\n');
        expect(spans).toEqual(['after_disk_fill']);
      });

      it('has no writable path but /tmp, /dev/shm (and /dev/mqueue); every other write fails', async () => {
        const probe = `
import errno, json, os
res = {}
for target in ['/', '/usr', '/var/tmp', '/home', '/etc', '/root', '/opt/loom/lib', '/opt/loom/packages', '/dev', '/dev/mqueue', '/sys/kernel', '/proc/sys/kernel/hostname']:
    try:
        if os.path.isdir(target):
            with open(os.path.join(target, 'loom-abuse'), 'w') as f:
                f.write('x')
        elif os.path.exists(target):
            with open(target, 'w') as f:
                f.write('x')
        else:
            os.makedirs(target)
        res[target] = 'WRITTEN'
    except OSError as e:
        res[target] = errno.errorcode.get(e.errno, str(e.errno))
writable = []
for root, dirs, files in os.walk('/'):
    if root in ('/proc', '/sys'):
        dirs[:] = []
        continue
    if os.access(root, os.W_OK):
        writable.append(root)
print(json.dumps({'writes': res, 'writable': sorted(writable)}))
`;
        const r = await executors.runner.execute({ command: py(probe), config, timeoutSeconds: 30 });
        const out = JSON.parse(text(r.stdout)) as { writes: Record<string, string>; writable: string[] };
        note(`writes elsewhere: ${JSON.stringify(out.writes)}; writable dirs: ${out.writable.join(' ')}`);
        for (const [target, result] of Object.entries(out.writes)) {
          // /dev/mqueue holds POSIX message queues only (bounded by RLIMIT_MSGQUEUE): no files.
          const refusal = target === '/dev/mqueue' ? /^(EROFS|EACCES|EPERM|EINVAL)$/ : /^(EROFS|EACCES|EPERM)$/;
          expect([target, result]).toEqual([target, expect.stringMatching(refusal)]);
        }
        // gVisor has no /dev/mqueue (POSIX message queues there live in the sandbox's own kernel).
        expect(out.writable).toEqual(isolation === 'gvisor' ? ['/dev/shm', '/tmp'] : ['/dev/mqueue', '/dev/shm', '/tmp']);
      });
    });

    describe('1 GB of output', () => {
      // Streaming is not capped: every byte reaches onEvent. The response keeps max_output_bytes.
      const cases: [Path, 'stdout' | 'stderr'][] = [
        ['runner', 'stdout'],
        ['runner', 'stderr'],
        ['exec', 'stdout'],
      ];
      for (const [path, stream] of cases) {
        it(`streams 1 GiB on ${stream} via ${path} in full, keeps 1 MiB of it, and the host's memory stays flat`, async () => {
          const config = await configFor(`out-${stream}`, path);
          const fd = stream === 'stdout' ? 1 : 2;
          // A write may take less than asked (under gVisor, docker exec's stdout takes ~50 KB of a
          // 1 MB write, where Linux blocks): the program writes the rest, as stdio and print do.
          const program = `import os\nb = memoryview(b'x' * (1 << 20))\nfor _ in range(1024):\n    v = b\n    while v:\n        v = v[os.write(${fd}, v):]`;
          let streamed = 0;
          let other = 0;
          let chunks = 0;
          const rssBefore = process.memoryUsage().rss;
          let rssPeak = rssBefore;
          const { r, ms } = await timed(
            executors[path],
            { command: py(program), config, maxOutputBytes: MB, timeoutSeconds: 60 },
            {
              onEvent: (e) => {
                if (e.event.case !== 'stdout' && e.event.case !== 'stderr') return;
                if (e.event.case === stream) streamed += e.event.value.length;
                else other += e.event.value.length;
                if (++chunks % 256 === 0) rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
              },
            },
          );
          const growth = Math.max(rssPeak, process.memoryUsage().rss) - rssBefore;
          note(`1 GiB on ${stream} via ${path}: ${ms} ms, streamed ${streamed} bytes in ${chunks} events, kept ${r[stream].length}, host RSS growth ${(growth / MB).toFixed(0)} MB`);
          expect(r.usage?.via).toBe(path);
          expect(r.exitCode).toBe(0);
          expect(r.timedOut).toBe(false);
          expect(streamed).toBe(1024 * MB);
          expect(other).toBe(0);
          expect(r[stream].length).toBe(MB);
          expect(r[stream === 'stdout' ? 'stdoutTruncated' : 'stderrTruncated']).toBe(true);
          expect(r[stream === 'stdout' ? 'stderrTruncated' : 'stdoutTruncated']).toBe(false);
          expect(r.truncated).toBe(true);
          expect(ms).toBeLessThan(60_000);
          expect(growth).toBeLessThan(300 * MB);
          await expectNextRunWorks(executors[path], config, `1 GiB on ${stream} via ${path}`, 10_000);
        });
      }
    });
  });

  describe('abuse: runaway and leftover processes', () => {
    for (const path of PATHS) {
      it(`times out an infinite loop via ${path} within timeout + 3 s`, async () => {
        const config = await configFor('loop', path);
        const { r, ms } = await timed(executors[path], { command: py('while True: pass'), config, timeoutSeconds: 3 });
        note(`infinite loop via ${path}: exit ${r.exitCode}, timedOut ${r.timedOut}, run ${Math.round(r.timings?.runMs ?? 0)} ms, total ${ms} ms`);
        expect(r.usage?.via).toBe(path);
        expect(r.timedOut).toBe(true);
        expect(r.exitCode).toBe(137);
        expect(r.timings?.runMs).toBeGreaterThanOrEqual(3000);
        expect(r.timings?.runMs).toBeLessThan(3000 + 3000);
        const next = await expectNextRunWorks(executors[path], config, `infinite loop via ${path}`, 10_000);
        expect(next.containerId === r.containerId).toBe(path === 'runner');
      });
    }

    for (const path of PATHS) {
      it(`does not let a background child or a double-forked daemon survive into the next execution via ${path}`, async () => {
        const config = await configFor('bgchild', path);
        // A child that keeps the program's stdout open, and a daemon (own session, reparented,
        // stdio on /dev/null) as a real one would do it.
        const program = `
import os, subprocess
subprocess.Popen(['sleep', '300'])
pid = os.fork()
if pid == 0:
    os.setsid()
    if os.fork() == 0:
        null = os.open('/dev/null', os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.execvp('sleep', ['sleep', '301'])
    os._exit(0)
os.waitpid(pid, 0)
print('parent exits')
`;
        const { r } = await timed(executors[path], { command: py(program), config, timeoutSeconds: 20 });
        note(`background child via ${path}: exit ${r.exitCode}, timedOut ${r.timedOut}, run ${Math.round(r.timings?.runMs ?? 0)} ms`);
        expect(r.usage?.via).toBe(path);
        expect(r.exitCode).toBe(0);
        expect(r.timedOut).toBe(false);
        expect(text(r.stdout)).toBe('parent exits\n');
        expect(r.timings?.runMs).toBeLessThan(5000);
        const next = await expectNextRunWorks(executors[path], config, `background child via ${path}`, 10_000);
        expect(text(next.stdout)).not.toMatch(/sleep 30[01]/);
      });
    }
  });

  describe('abuse: stdin', () => {
    const FLOOD = randomBytes(50 * MB);
    const digest = createHash('sha256').update(FLOOD).digest('hex');
    const programs: [string, string, Uint8Array, string][] = [
      ['closes fd 0 at once (1 MB offered)', "import os, time\nos.close(0)\ntime.sleep(0.2)\nprint('closed')", FLOOD.subarray(0, MB), 'closed\n'],
      ['reads 1 byte of 50 MB', 'import sys\nprint(len(sys.stdin.buffer.read(1)))', FLOOD, '1\n'],
      ['reads all of 50 MB', 'import hashlib, sys\nd = sys.stdin.buffer.read()\nprint(len(d), hashlib.sha256(d).hexdigest())', FLOOD, `${50 * MB} ${digest}\n`],
    ];
    describe.each(PATHS)('via %s', (path) => {
      it.for(programs)('survives a program that %s', async ([what, code, stdin, expected]) => {
        const config = await configFor('stdin', path);
        const { r, ms } = await timed(executors[path], { command: py(code), config, stdin, timeoutSeconds: 30 });
        note(`stdin, program ${what} via ${path}: exit ${r.exitCode}, timedOut ${r.timedOut}, ${ms} ms`);
        expect(r.usage?.via).toBe(path);
        expect([r.exitCode, text(r.stdout), r.timedOut]).toEqual([0, expected, false]);
        expect(ms).toBeLessThan(20_000);
        await expectNextRunWorks(executors[path], config, `stdin ${what} via ${path}`, 10_000);
      });
    });
  });

  describe('abuse: privileges and escapes', () => {
    let config: Config;
    beforeAll(async () => {
      config = await configFor('probe', 'runner');
    });

    it('cannot gain privileges: setuid, setgroups, capabilities, sudo, su, chroot, mount, unshare', async () => {
      const probe = `
import ctypes, errno, json, os, shutil, subprocess
res = {}
def attempt(name, fn):
    try:
        res[name] = 'succeeded: %r' % (fn(),)
    except OSError as e:
        res[name] = errno.errorcode.get(e.errno, str(e.errno))
libc = ctypes.CDLL(None, use_errno=True)
def check(rc):
    if rc != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return rc
attempt('setuid', lambda: os.setuid(0))
attempt('seteuid', lambda: os.seteuid(0))
attempt('setgid', lambda: os.setgid(0))
attempt('setgroups', lambda: os.setgroups([0]))
attempt('cap_ambient_raise', lambda: check(libc.prctl(47, 2, 21, 0, 0)))
attempt('chroot', lambda: os.chroot('/'))
attempt('mount_syscall', lambda: check(libc.mount(b'none', b'/mnt', b'tmpfs', 0, None)))
status = dict(l.split(':', 1) for l in open('/proc/self/status').read().splitlines() if ':' in l)
# PR_GET_NO_NEW_PRIVS: the kernel's own answer (gVisor's /proc/self/status has no NoNewPrivs line).
res['NoNewPrivs'] = str(libc.prctl(39, 0, 0, 0, 0))
res['CapEff'] = status['CapEff'].strip()
res['sudo'] = shutil.which('sudo')
def run(argv):
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
        return [p.returncode, (p.stdout + p.stderr).decode(errors='replace').strip()[:200]]
    except FileNotFoundError:
        return [None, 'absent']
res['su'] = run(['su', '-c', 'id -u', 'root'])
res['mount_cmd'] = run(['mount', '-t', 'tmpfs', 'none', '/mnt'])
setuid_files = []
for d in ('/bin', '/sbin', '/usr/bin', '/usr/sbin', '/usr/lib', '/usr/local/bin'):
    for root, _, files in os.walk(d):
        for name in files:
            p = os.path.join(root, name)
            try:
                if os.lstat(p).st_mode & 0o4000:
                    setuid_files.append(p)
            except OSError:
                pass
res['setuid_files'] = sorted(setuid_files)
# Last: whatever unshare gives, it must not make /etc writable.
attempt('unshare_user', lambda: check(libc.unshare(0x10000000)))
attempt('write_etc', lambda: open('/etc/loom-abuse', 'w').write('x'))
res['uid_after'] = os.getuid()
print(json.dumps(res))
`;
      const r = await executors.runner.execute({ command: py(probe), config, timeoutSeconds: 30 });
      expect(r.exitCode, text(r.stderr)).toBe(0);
      const res = JSON.parse(text(r.stdout)) as Record<string, unknown>;
      note(`privileges: ${JSON.stringify(res)}`);
      expect(res).toMatchObject({
        setuid: 'EPERM',
        seteuid: 'EPERM',
        setgid: 'EPERM',
        setgroups: 'EPERM',
        // gVisor refuses with EINVAL (no capability in the permitted set), runc with EPERM.
        cap_ambient_raise: expect.stringMatching(/^(EPERM|EINVAL)$/),
        chroot: 'EPERM',
        mount_syscall: 'EPERM',
        NoNewPrivs: '1',
        CapEff: '0000000000000000',
        sudo: null,
        write_etc: expect.stringMatching(/^(EROFS|EACCES|EPERM)$/),
        uid_after: 65534,
      });
      // Under runc, Docker's seccomp profile refuses a user namespace. gVisor implements the
      // syscall in its own kernel: the namespace's capabilities are over the sandbox's objects,
      // never the host's, and the writes above (made after it) were still refused.
      if (isolation === 'runc') expect(res['unshare_user']).not.toMatch(/^succeeded/);
      // su is setuid root on disk, but no-new-privileges keeps it from elevating.
      const [suCode, suOut] = res['su'] as [number | null, string];
      expect(suCode).not.toBe(0);
      expect(suOut).not.toMatch(/^0$/m);
      expect((res['mount_cmd'] as [number | null, string])[0]).not.toBe(0);
      await expectNextRunWorks(executors.runner, config, 'privileges', 5000);
    });

    it('cannot write to /proc/sys, /proc/sysrq-trigger or /sys', async () => {
      const probe = `
import errno, json
res = {}
for path in ['/proc/sys/kernel/hostname', '/proc/sys/vm/drop_caches', '/proc/sys/kernel/core_pattern', '/proc/sys/net/ipv4/ip_forward',
             '/proc/sysrq-trigger', '/sys/kernel/uevent_helper', '/sys/kernel/mm/transparent_hugepage/enabled',
             '/sys/fs/cgroup/pids/pids.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes', '/sys/fs/cgroup/pids.max', '/sys/fs/cgroup/memory.max']:
    try:
        with open(path, 'w') as f:
            f.write('1')
        res[path] = 'WRITTEN'
    except OSError as e:
        res[path] = errno.errorcode.get(e.errno, str(e.errno))
print(json.dumps(res))
`;
      const r = await executors.runner.execute({ command: py(probe), config, timeoutSeconds: 30 });
      const res = JSON.parse(text(r.stdout)) as Record<string, string>;
      note(`/proc/sys and /sys writes: ${JSON.stringify(res)}`);
      for (const [path, result] of Object.entries(res)) {
        // ENOENT: that file does not exist on this kernel or cgroup version: nothing to write either.
        expect([path, result]).toEqual([path, expect.stringMatching(/^(EROFS|EACCES|EPERM|ENOENT)$/)]);
      }
      expect(Object.values(res).filter((v) => v !== 'ENOENT').length).toBeGreaterThanOrEqual(6);
    });

    for (const path of PATHS) {
      it(`sees nothing of the host: environment, /proc/*/environ, mounts (via ${path})`, async () => {
        const cfg = path === 'runner' ? config : await configFor('hostview', path);
        const probe = `
import json, os
environs = {}
for p in os.listdir('/proc'):
    if p.isdigit():
        try:
            with open('/proc/%s/environ' % p, 'rb') as f:
                environs[p] = f.read().decode('utf-8', 'replace')
        except OSError as e:
            environs[p] = 'unreadable: %s' % e.strerror
print(json.dumps({'env': dict(os.environ), 'environs': environs, 'mountinfo': open('/proc/self/mountinfo').read()}))
`;
        const r = await executors[path].execute({ command: py(probe), config: cfg, env: { REQUEST_VAR: 'from the request' } });
        expect(r.usage?.via).toBe(path);
        const out = JSON.parse(text(r.stdout)) as { env: Record<string, string>; environs: Record<string, string>; mountinfo: string };
        const imageEnv = ((await docker.getImage('python:3.11-slim').inspect()).Config.Env ?? []).map((e) => e.split('=')[0]);
        const allowed = new Set([
          ...imageEnv,
          // Loom's container env (container.ts), Docker's HOSTNAME, the runner's PEP 538 locale.
          ...['HOME', 'TMPDIR', 'PYTHONPATH', 'PYTHONDONTWRITEBYTECODE', 'PYTHONUNBUFFERED', 'NODE_PATH', 'HOSTNAME', 'LC_CTYPE'],
          'TRACEPARENT',
          'REQUEST_VAR',
        ]);
        const isAllowed = (k: string): boolean => allowed.has(k) || k.startsWith('LOOM_');
        const foreign = Object.keys(out.env).filter((k) => !isAllowed(k));
        note(`environment via ${path}: ${Object.keys(out.env).sort().join(' ')}`);
        expect(foreign).toEqual([]);
        expect(out.env['REQUEST_VAR']).toBe('from the request');
        expect(JSON.stringify(out)).not.toContain(SECRET_VALUE);
        expect(JSON.stringify(out)).not.toContain(SECRET_NAME);
        // PID 1 (loom-init, undumpable) is unreadable; were it readable, it would hold the container's env only.
        const pid1 = out.environs['1'] ?? '';
        note(`/proc/1/environ via ${path}: ${pid1.startsWith('unreadable') ? pid1 : pid1.split('\0').filter(Boolean).map((e) => e.split('=')[0]).join(' ')}`);
        if (!pid1.startsWith('unreadable')) {
          const names = pid1.split('\0').filter(Boolean).map((e) => e.split('=')[0] ?? '');
          expect(names.filter((n) => !isAllowed(n))).toEqual([]);
        }
        // Mounts whose source is a path inside a host filesystem (bind mounts and volumes):
        // only what Docker always adds and Loom's resources volume (PID 1 is loom-init, from it).
        const fromHost = out.mountinfo
          .trim()
          .split('\n')
          .map((line) => {
            const [pre = '', post = ''] = line.split(' - ');
            const f = pre.split(' ');
            return { root: f[3] ?? '', mountpoint: f[4] ?? '', fstype: post.split(' ')[0] ?? '' };
          })
          .filter((m) => !['proc', 'sysfs', 'tmpfs', 'devpts', 'mqueue', 'cgroup', 'cgroup2', 'overlay'].includes(m.fstype));
        note(`host-backed mounts via ${path}: ${fromHost.map((m) => `${m.mountpoint} <- ${m.root}`).join(', ')}`);
        const ALWAYS = ['/etc/hostname', '/etc/hosts', '/etc/resolv.conf', '/opt/loom/lib'];
        if (isolation === 'gvisor') {
          // gVisor serves the root filesystem and every bind mount through its gofer (9p), each
          // with root '/': no host path shows at all.
          expect(fromHost.map((m) => m.mountpoint).filter((p) => p !== '/' && !ALWAYS.includes(p))).toEqual([]);
          expect(fromHost.filter((m) => m.root !== '/')).toEqual([]);
        } else {
          expect(fromHost.map((m) => m.mountpoint).filter((p) => !ALWAYS.includes(p))).toEqual([]);
          expect(fromHost.find((m) => m.mountpoint === '/opt/loom/lib')?.root).toMatch(/\/volumes\/loom-resources-[0-9a-f]+\/_data$/);
        }
      });
    }

    it('finds no Docker socket and no Docker API on TCP 2375/2376, and no network but lo', async () => {
      const probe = `
import errno, json, os, socket, stat
res = {}
res['sockets'] = [p for p in ('/var/run/docker.sock', '/run/docker.sock', '/run/containerd/containerd.sock', '/run/podman/podman.sock') if os.path.exists(p)]
found = []
for root, dirs, files in os.walk('/'):
    if root in ('/proc', '/sys'):
        dirs[:] = []
        continue
    for name in files + dirs:
        p = os.path.join(root, name)
        try:
            if stat.S_ISSOCK(os.lstat(p).st_mode):
                found.append(p)
        except OSError:
            pass
res['socket_files'] = found
def connect(host, port, timeout=2):
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        return 'connected'
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e)) if e.errno else type(e).__name__
res['tcp'] = {str(port): connect('127.0.0.1', port) for port in (2375, 2376)}
res['interfaces'] = sorted(n for _, n in socket.if_nameindex())
res['routes'] = open('/proc/net/route').read().strip().splitlines()[1:]
res['public'] = connect('1.1.1.1', 53)
try:
    socket.getaddrinfo('registry-1.docker.io', 443)
    res['dns'] = 'resolved'
except OSError as e:
    res['dns'] = type(e).__name__
print(json.dumps(res))
`;
      const { r, ms } = await timed(executors.runner, { command: py(probe), config, timeoutSeconds: 30 });
      const res = JSON.parse(text(r.stdout)) as Record<string, unknown>;
      note(`docker socket and network: ${JSON.stringify(res)} (${ms} ms)`);
      expect(res).toEqual({
        sockets: [],
        socket_files: [],
        tcp: { '2375': 'ECONNREFUSED', '2376': 'ECONNREFUSED' },
        interfaces: ['lo'],
        routes: [],
        // No route out: runc's kernel says ENETUNREACH, gVisor's netstack (no NIC but lo) EHOSTUNREACH.
        public: isolation === 'gvisor' ? 'EHOSTUNREACH' : 'ENETUNREACH',
        dns: 'gaierror',
      });
      expect(ms).toBeLessThan(10_000);
    });
  });

  describe('abuse: host mounts and privileged mode', () => {
    it('refuses host mounts unless allowed; allowed ones are read-only by default', async () => {
      const err = await executors.runner
        .execute({ command: py('pass'), config: { mounts: [{ hostPath: '/etc', containerPath: '/host-etc' }] } })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).field).toBe('config.mounts');

      const dir = mkdtempSync(join(tmpdir(), 'loom-abuse-'));
      // World-writable: only the read-only mount can refuse the sandbox user's write (EROFS).
      chmodSync(dir, 0o777);
      writeFileSync(join(dir, 'hello.txt'), 'from the host');
      const permissive = withIsolation(await createExecutor({ minIdlePerConfig: 0, allowHostMounts: true }), level);
      try {
        const probe = `
import errno
print(open('/data/hello.txt').read())
try:
    open('/data/evil.txt', 'w').write('x')
    print('WRITTEN')
except OSError as e:
    print(errno.errorcode[e.errno])
`;
        const { r } = await timed(permissive, {
          command: py(probe),
          config: { name: `abuse-mounts-${RUN_ID}`, mounts: [{ hostPath: dir, containerPath: '/data' }] },
        });
        note(`allowed host mount: ${text(r.stdout).trim().replace(/\n/g, '; ')}`);
        expect(text(r.stdout)).toBe('from the host\nEROFS\n');
        const info = await docker.getContainer(r.containerId).inspect();
        expect(info.Mounts.filter((m) => m.Type === 'bind').map((m) => [m.Source, m.Destination, m.RW])).toEqual([[dir, '/data', false]]);
      } finally {
        await permissive.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('has no way to ask for privileged mode, and every container is unprivileged with no capabilities', async () => {
      const fields = [...DockerBackendConfigSchema.fields, ...ExecuteRequestSchema.fields, ...ResourceLimitsSchema.fields].map((f) => f.name);
      expect(fields.filter((n) => /privileg|cap_|capabilit|security|seccomp|apparmor|device|pid_mode|ipc|userns|user$/i.test(n))).toEqual([]);
      const ids = [...executors.runner.containers(), ...executors.exec.containers()].map((c) => c.id);
      expect(ids.length).toBeGreaterThan(0);
      for (const id of ids) {
        const hc = (await docker.getContainer(id).inspect()).HostConfig;
        expect([id, hc.Privileged, hc.CapDrop, hc.CapAdd ?? [], hc.SecurityOpt, hc.ReadonlyRootfs]).toEqual([
          id,
          false,
          ['ALL'],
          [],
          ['no-new-privileges'],
          true,
        ]);
      }
      note(`inspected ${ids.length} pooled containers: Privileged false, CapDrop ALL, no-new-privileges, read-only root`);
    });
  });

  describe('abuse: killing the in-container helpers', () => {
    it('a program that kills the runner fails alone; the next run on the config works (new container)', async () => {
      const config = await configFor('killrunner', 'runner');
      const before = await executors.runner.execute({ command: py('pass'), config });
      const started = Date.now();
      const err = await executors.runner
        .execute({ command: py(`${PY_FIND_RUNNER}\nimport signal, time\nos.kill(runner, signal.SIGKILL)\ntime.sleep(5)`), config, timeoutSeconds: 20 })
        .catch((e: unknown) => e);
      note(`runner killed: the run failed after ${Date.now() - started} ms with ${(err as Error).name}: ${(err as Error).message}`);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(/runner died/);
      const next = await expectNextRunWorks(executors.runner, config, 'runner killed', 10_000);
      expect(next.containerId).not.toBe(before.containerId);
    });

    // The agent carries spans out of programs run by docker exec: it lives in exec-path containers
    // only (started by the first such program, here configFor's).
    it('a program that kills the agent still gets its result; the next run works and its spans arrive', async () => {
      const config = await configFor('killagent', 'exec');
      // By docker exec this program's own cmdline holds its code, and so 'loom_agent.py': skip itself.
      const killer = `
import os, signal
for p in os.listdir('/proc'):
    if p.isdigit() and int(p) != os.getpid():
        try:
            cmd = open('/proc/%s/cmdline' % p, 'rb').read()
        except OSError:
            continue
        if b'loom_agent.py' in cmd:
            os.kill(int(p), signal.SIGKILL)
            print('killed')
`;
      const { r, ms } = await timed(executors.exec, { command: py(killer), config, timeoutSeconds: 20 });
      note(`agent killed: the run returned exit ${r.exitCode} in ${ms} ms`);
      expect(r.usage?.via).toBe('exec');
      expect(r.exitCode).toBe(0);
      expect(text(r.stdout)).toBe('killed\n');
      const traced = "from loom_trace import trace_span\nwith trace_span('after_agent_kill'):\n    print('traced')";
      const next = await executors.exec.execute({ command: py(traced), config });
      const spans = next.spans.filter((s) => s.source === SpanSource.CONTAINER).map((s) => s.name);
      note(`agent killed, next run: container ${next.containerId === r.containerId ? 'same' : 'replaced'}, container spans [${spans.join(', ')}]`);
      expect(text(next.stdout)).toBe('traced\n');
      expect(next.containerId).not.toBe(r.containerId);
      expect(spans).toEqual(['after_agent_kill']);
      await expectNextRunWorks(executors.exec, config, 'agent killed', 10_000);
    });
  });

  describe('abuse: injection through request fields', () => {
    const python = ['requests; rm -rf /', '--index-url=http://evil', '$(id)', 'a && b', ';id', '-e git+http://evil', 'requests @ http://evil/x.whl', '`id`', 'a|b'];
    const npm = ['--registry=x', ';id', '$(id)', 'a && b', 'left-pad; rm -rf /', 'x@`id`'];
    it.each([...python.map((p) => ['pip', p] as const), ...npm.map((p) => ['npm', p] as const)])(
      'refuses the crafted %s package name %j, naming config.packages[1]',
      async (installer, bad) => {
        const [runtimeType, good] = installer === 'npm' ? [RuntimeType.NODE, 'left-pad'] : [RuntimeType.PYTHON, 'requests'];
        const err = await executors.runner.execute({ runtimeType, command: ['true'], config: { packages: [good, bad] } }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ValidationError);
        expect((err as ValidationError).field).toBe('config.packages[1]');
      },
    );

    it.each(['A;B', '$(x)', 'A B', 'LOOM_TRACE_ID', 'loom_execution_id'])('refuses the crafted or reserved env name %j, in the request and in the config', async (name) => {
      const err = await executors.runner.execute({ command: ['true'], env: { [name]: 'x' } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).field).toBe(`env.${name}`);
      const inConfig = await executors.runner.execute({ command: ['true'], config: { env: { [name]: 'x' } } }).catch((e: unknown) => e);
      expect(inConfig).toBeInstanceOf(ValidationError);
      expect((inConfig as ValidationError).field).toBe(`config.env.${name}`);
    });

    it('says LOOM_* is reserved; accepts LD_PRELOAD, which cannot escalate', async () => {
      const reserved = await executors.runner.execute({ command: ['true'], env: { LOOM_TRACE_ID: 'x' } }).catch((e: unknown) => e);
      expect((reserved as Error).message).toMatch(/reserved/);

      // LD_PRELOAD is a real variable and is passed on; the program stays nobody and setuid
      // binaries do not honour it (no-new-privileges: they do not even run as root).
      const config = await configFor('ldpreload', 'runner');
      const probe = `
import os, subprocess
print(os.environ.get('LD_PRELOAD'), os.getuid())
p = subprocess.run(['su', '-c', 'id -u', 'root'], stdin=subprocess.DEVNULL, capture_output=True)
print(p.returncode != 0, b'0' not in p.stdout.split())
print(subprocess.run(['id', '-u'], capture_output=True).stdout.decode().strip())
`;
      const r = await executors.runner.execute({ command: py(probe), config, env: { LD_PRELOAD: '/tmp/evil.so' } });
      note(`LD_PRELOAD accepted: ${text(r.stdout).trim().replace(/\n/g, '; ')}`);
      expect(text(r.stdout)).toBe('/tmp/evil.so 65534\nTrue True\n65534\n');
    });

    for (const path of PATHS) {
      it(`passes shell metacharacters in arguments literally (argv, no shell) via ${path}`, async () => {
        const config = await configFor('argv', path);
        const r = await executors[path].execute({ command: ['python3', '-c', 'import sys; print(sys.argv[1:])', '$(id)', ';', '&&', '`id`', '|', '>', '/tmp/x', '*'], config });
        expect(r.usage?.via).toBe(path);
        expect(text(r.stdout)).toBe("['$(id)', ';', '&&', '`id`', '|', '>', '/tmp/x', '*']\n");
      });
    }
  });
});
