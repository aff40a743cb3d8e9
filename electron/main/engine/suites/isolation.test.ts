// Isolation between runs: nothing one program leaves in a pooled container reaches the next
// program of the same config. Each case is an attack by run N and a check by run N+1 on the SAME
// container (asserted), for both ways a program runs (the in-container runner, and docker exec
// with no runner), both runtimes and both isolation levels (runc, gVisor). docs/reliability.md
// "Isolation between runs" lists them.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LANGUAGE_IMAGES } from '../../../../shared/defaults';
import { RuntimeType, type ExecuteResponse } from '../../../../shared/gen/loom/v1/docker_pb';
import { ISOLATION_LEVELS, ISOLATIONS, type Isolation } from '../../../../shared/isolation';
import { RUNTIME_TYPES, type Runtime } from '../../../../shared/runtimes';
import { createExecutor, type Executor } from '../executor';
import { docker, PY_FIND_RUNNER, requireEngineAndImages, requireGvisor, text, withIsolation } from '../testing/test-support';

type Path = 'runner' | 'exec';
type Lang = 'python' | 'node';
const RUN_ID = randomBytes(3).toString('hex');
const CASES: [Path, Lang, Isolation][] = ISOLATIONS.flatMap((isolation) => [
  ['runner', 'python', isolation],
  ['runner', 'node', isolation],
  ['exec', 'python', isolation],
  ['exec', 'node', isolation],
] as [Path, Lang, Isolation][]);

let base: Record<Path, Executor>;
const executorFor = (path: Path, isolation: Isolation): Executor => withIsolation(base[path], ISOLATION_LEVELS[isolation]);

beforeAll(async () => {
  await requireEngineAndImages();
  await requireGvisor();
  // One container per config, so that run N+1 lands where run N ran.
  base = {
    runner: await createExecutor({ minIdlePerConfig: 0, maxContainersPerKey: 1 }),
    exec: await createExecutor({ minIdlePerConfig: 0, maxContainersPerKey: 1, runner: false }),
  };
});

afterAll(async () => {
  await base?.runner.close();
  await base?.exec.close();
});

const program = (lang: Lang, code: string): string[] => (lang === 'python' ? ['python3', '-c', code] : ['node', '-e', code]);

describe.each(CASES)('isolation between runs (%s path, %s, %s)', (path, lang, isolation) => {
  const runtimeType = lang === 'python' ? RuntimeType.PYTHON : RuntimeType.NODE;
  const config = { name: `iso-${path}-${lang}-${isolation}-${RUN_ID}` };
  const run = (code: string): Promise<ExecuteResponse> => executorFor(path, isolation).execute({ runtimeType, command: program(lang, code), config });

  /** Runs the attack, then the check on the same container; the check's response. */
  async function attackThenCheck(attack: string, check: string): Promise<ExecuteResponse> {
    const a = await run(attack);
    expect(a.usage?.via, 'the attack ran by the path under test').toBe(path);
    expect(text(a.stderr), 'the attack ran without error').toBe('');
    const c = await run(check);
    expect(c.containerId, 'the check ran in the attacked container').toBe(a.containerId);
    expect(text(c.stderr)).toBe('');
    return c;
  }

  const sh = (script: string): string =>
    lang === 'python'
      ? `import subprocess; subprocess.run(['sh', '-c', ${JSON.stringify(script)}], check=True)`
      : `require('child_process').execFileSync('sh', ['-c', ${JSON.stringify(script)}], { stdio: 'inherit' })`;
  // What is left in the writable places, by the language itself: gVisor's statx refuses the flags
  // coreutils' ls passes (EINVAL), and it has no /dev/mqueue.
  const listing =
    lang === 'python'
      ? "import os\nprint(sorted(d + '/' + n for d in ('/tmp', '/dev/shm', '/dev/mqueue') if os.path.isdir(d) for n in os.listdir(d)))"
      : "const fs = require('fs'); console.log(JSON.stringify(['/tmp', '/dev/shm', '/dev/mqueue'].filter((d) => fs.existsSync(d)).flatMap((d) => fs.readdirSync(d).map((n) => d + '/' + n)).sort()))";
  const EMPTY = '[]';

  it("a change to the limits or priority of Loom's processes does not reach the next program", async () => {
    // The same user may lower another process's limits and priority, and narrow its CPUs, with no
    // ptrace (prlimit, setpriority, sched_setaffinity), and children inherit them: the runner's
    // and its spares' would reach every later program. (Node has no call for affinity.)
    const attack =
      lang === 'python'
        ? 'import os, resource\nn = 0\nfor p in os.listdir("/proc"):\n  if p.isdigit():\n    try:\n      resource.prlimit(int(p), resource.RLIMIT_NOFILE, (1000, 1000))\n      os.setpriority(os.PRIO_PROCESS, int(p), 10)\n      os.sched_setaffinity(int(p), {min(os.sched_getaffinity(int(p)))})\n      n += 1\n    except OSError:\n      pass\nprint(n)'
        : "const os = require('os'); const { execFileSync } = require('child_process'); let n = 0;\nfor (const p of require('fs').readdirSync('/proc').filter((d) => /^\\d+$/.test(d))) {\n  try { execFileSync('prlimit', ['--pid', p, '--nofile=1000:1000'], { stdio: 'ignore' }); os.setPriority(Number(p), 10); n++; } catch {}\n}\nconsole.log(n)";
    const check = sh('echo "$(ulimit -Hn) $(nice) $(nproc)"');
    const before = await run(check);
    const a = await run(attack);
    expect(text(a.stderr)).toBe('');
    // Changed: itself at least, and Loom's processes where the kernel lets it.
    expect(Number(text(a.stdout))).toBeGreaterThan(0);
    const c = await run(check);
    expect(text(c.stderr)).toBe('');
    expect(text(c.stdout)).toBe(text(before.stdout));
  });

  it('a module planted in /tmp is not imported by the next program', async () => {
    if (lang === 'python') {
      const c = await attackThenCheck("open('/tmp/difflib.py', 'w').write('print(\"hijacked\")')", 'import difflib; print(difflib.__file__)');
      expect(text(c.stdout)).toMatch(/^\/usr\/lib\/python3[.\d]*\/difflib\.py\n$/);
    } else {
      const c = await attackThenCheck(
        "const fs = require('fs'); fs.mkdirSync('/tmp/node_modules', { recursive: true }); fs.writeFileSync('/tmp/node_modules/loom-trace.js', 'console.log(\"hijacked\")')",
        "console.log(require.resolve('loom-trace.js'))",
      );
      expect(text(c.stdout)).toBe('/opt/loom/lib/trace/node/loom-trace.js\n');
    }
  });

  // The user's own module folders are under HOME (/tmp), and a program starts by looking there:
  // Python's user site (its .pth files run at start; the runner's spare works out where it is
  // before a program comes, and looks at it only for the program), Node's ~/.node_modules.
  it("a module planted in the user's own module folder is not loaded by the next program", async () => {
    // The attack proves its plant works: a fresh interpreter it starts itself loads it.
    const [attack, check, loaded, clean] =
      lang === 'python'
        ? [
            "import os, site, subprocess\nd = site.getusersitepackages()\nos.makedirs(d)\nopen(os.path.join(d, 'evil.pth'), 'w').write('import os; os.environ[\"PWNED\"] = \"1\"\\n')\n" +
              "subprocess.run(['python3', '-c', 'import os; print(os.environ.get(\"PWNED\"))'], check=True)",
            "import os, site\nd = site.getusersitepackages()\nprint(d.startswith('/tmp/'), os.environ.get('PWNED'), os.path.isdir(d))",
            '1\n',
            'True None False\n',
          ]
        : [
            "const fs = require('fs'); const d = require('os').homedir() + '/.node_modules'; fs.mkdirSync(d); fs.writeFileSync(d + '/loom-evil.js', 'module.exports = \"hijacked\"');\n" +
              "require('child_process').execFileSync('node', ['-e', 'console.log(require(\"loom-evil\"))'], { stdio: 'inherit' })",
            "const d = require('os').homedir() + '/.node_modules'; let found; try { found = require('loom-evil'); } catch (e) { found = e.code; } console.log(require('module').globalPaths.includes(d), found)",
            'hijacked\n',
            'true MODULE_NOT_FOUND\n',
          ];
    const a = await run(attack);
    expect(a.usage?.via, 'the attack ran by the path under test').toBe(path);
    expect([text(a.stdout), text(a.stderr)]).toEqual([loaded, '']);
    const c = await run(check);
    expect(c.containerId, 'the check ran in the attacked container').toBe(a.containerId);
    expect([text(c.stdout), text(c.stderr)]).toEqual([clean, '']);
  });

  it('files in /tmp, /dev/shm and /dev/mqueue are gone, a secret among them', async () => {
    const c = await attackThenCheck(sh('echo token-123 > /tmp/secret && echo x > /dev/shm/shared && mkdir -p /tmp/a/b && echo y > /tmp/a/b/c'), listing);
    expect(text(c.stdout).trim()).toBe(EMPTY);
  });

  // Under gVisor (no /proc/sysvipc) the objects are counted by shmctl/msgctl/semctl *_INFO, which
  // only the Python case can call (the node image has neither Python nor a tool that counts them
  // there: util-linux's ipcs falls back to calls gVisor answers differently); the clean-up is
  // loom-init's, the same for both languages.
  it.skipIf(isolation === 'gvisor' && lang === 'node')('SysV IPC objects and POSIX message queues are gone', async () => {
    const attack = sh('ipcmk -M 4096 >/dev/null && ipcmk -Q >/dev/null && ipcmk -S 1 >/dev/null && if [ -d /dev/mqueue ]; then : > /dev/mqueue/q; fi');
    if (isolation === 'gvisor') {
      // shm_tot (pages of live segments), msginfo.msgpool, seminfo.semusz: live objects of each kind.
      const count =
        'import ctypes\nl = ctypes.CDLL(None)\nb = (ctypes.c_long * 32)()\nl.shmctl(0, 14, b); shm = b[1]\n' +
        'l.msgctl(0, 12, b); msg = ctypes.cast(b, ctypes.POINTER(ctypes.c_int))[0]\nl.semctl(0, 0, 19, b); sem = ctypes.cast(b, ctypes.POINTER(ctypes.c_int))[7]\nprint(shm, msg, sem)';
      const a = await run(attack);
      expect(text(a.stderr)).toBe('');
      // Control: the same count sees objects where they are (in the attacker's own run).
      const seen = await run(`import subprocess\nsubprocess.run(['ipcmk', '-M', '4096'], check=True, capture_output=True)\n${count}`);
      expect(text(seen.stdout)).not.toBe('0 0 0\n');
      const c = await run(count);
      expect(c.containerId).toBe(a.containerId);
      expect(text(c.stdout)).toBe('0 0 0\n');
      return;
    }
    const c = await attackThenCheck(attack, sh('cat /proc/sysvipc/shm /proc/sysvipc/msg /proc/sysvipc/sem | grep -cv "^ *key" || true; ls -A /dev/mqueue'));
    expect(text(c.stdout)).toBe('0\n');
  });

  it('no process of a program survives into the next run, whatever it calls itself', async () => {
    // Daemons in sessions of their own: one named exactly as an idle container's main process
    // (`sleep infinity`), and two that keep forking and exiting, a step ahead of anything that
    // looks for them in /proc. Each carries a mark in its environment.
    const attack = sh(
      'export LEFTOVER_MARK=1; ' +
        "setsid sleep infinity </dev/null >/dev/null 2>&1 & " +
        "setsid sh -c 'f() { f & }; f' </dev/null >/dev/null 2>&1 & " +
        (lang === 'python' ? "setsid python3 -c 'import os\nwhile True:\n  if os.fork(): os._exit(0)' </dev/null >/dev/null 2>&1 & " : '') +
        'sleep 0.3',
    );
    // A program's processes are the only ones whose environment another program can read.
    const check = sh('n=0; for e in /proc/[0-9]*/environ; do grep -qa LEFTOVER_MARK=1 "$e" 2>/dev/null && n=$((n+1)); done; echo $n');
    const c = await attackThenCheck(attack, check);
    expect(text(c.stdout)).toBe('0\n');
  });

  it("no program can read or write the memory of Loom's processes (PID 1, the runner, the agent) or trace them", async () => {
    // Every process in the container that is not the program's: PID 1 first.
    const probe =
      lang === 'python'
        ? "import os, ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nfor p in sorted(int(n) for n in os.listdir('/proc') if n.isdigit()):\n  if p == os.getpid(): continue\n  try:\n    os.close(os.open('/proc/%d/mem' % p, os.O_RDWR)); print(p, 'mem-open')\n  except OSError: pass\n  if libc.ptrace(16, p, 0, 0) == 0: print(p, 'attached')\nprint('done')"
        : "const fs = require('fs'); for (const n of fs.readdirSync('/proc').filter((n) => /^\\d+$/.test(n))) { const p = Number(n); if (p === process.pid) continue; try { fs.closeSync(fs.openSync(`/proc/${p}/mem`, 'r+')); console.log(p, 'mem-open'); } catch {} } console.log('done')";
    const r = await run(probe);
    expect(text(r.stderr)).toBe('');
    expect(text(r.stdout)).toBe('done\n');
  });

  it('hostile leftovers do not defeat the clean-up', async () => {
    // An unreadable and unwritable directory with files, a deep tree, many files, names with a
    // newline, links pointing out, a FIFO, a socket, a file held open by a process being killed.
    const attack = sh(
      'cd /tmp && mkdir -p locked/inner && touch locked/inner/f && chmod 000 locked/inner locked && ' +
        'mkdir -p deep && cd deep && i=0; while [ $i -lt 300 ]; do mkdir d && cd d; i=$((i+1)); done; cd /tmp && ' +
        'mkdir many && i=0; while [ $i -lt 2000 ]; do : > many/f$i; i=$((i+1)); done && ' +
        "touch \"$(printf 'new\\nline')\" && ln -s /etc out && ln -s /proc/1/root root1 && mkfifo fifo && " +
        'sh -c "exec 3>/tmp/held; while :; do echo x >&3; sleep 0.05; done" </dev/null >/dev/null 2>&1 & ' +
        `${lang === 'python' ? "python3 -c \"import socket; socket.socket(socket.AF_UNIX).bind('/tmp/sock')\"" : "node -e \"require('net').createServer().listen('/tmp/sock', () => process.exit(0))\""}; sleep 0.1`,
    );
    const c = await attackThenCheck(attack, listing);
    expect(text(c.stdout).trim()).toBe(EMPTY);
  });
});

describe.each(ISOLATIONS.flatMap((isolation) => (['python', 'node'] as const).map((lang) => [lang, isolation] as const)))("the exec path's agent and its span file (%s, %s)", (lang, isolation) => {
  it('reads nothing but a regular file there: a FIFO or a link to /dev/zero ends the run as usual, and the next run has its spans', async () => {
    const config = { name: `iso-spanfile-${lang}-${isolation}-${RUN_ID}` };
    const runtimeType = lang === 'python' ? RuntimeType.PYTHON : RuntimeType.NODE;
    const run = (code: string): Promise<ExecuteResponse> => executorFor('exec', isolation).execute({ runtimeType, command: program(lang, code), config });
    // The program owns its span file's path (LOOM_TRACE_FILE): it makes it something else.
    const hostile =
      lang === 'python'
        ? ["import os; os.mkfifo(os.environ['LOOM_TRACE_FILE'])", "import os; os.symlink('/dev/zero', os.environ['LOOM_TRACE_FILE'])"]
        : ["require('child_process').execFileSync('mkfifo', [process.env.LOOM_TRACE_FILE])", "require('fs').symlinkSync('/dev/zero', process.env.LOOM_TRACE_FILE)"];
    for (const code of hostile) {
      const r = await run(code);
      expect([r.exitCode, r.usage?.via, text(r.stderr)]).toEqual([0, 'exec', '']);
      // An agent stuck on the FIFO, or reading /dev/zero forever, would carry no more spans.
      const traced = await run(lang === 'python' ? "from loom_trace import trace_span\nwith trace_span('after'): pass" : "require('loom-trace.js').traceSpanSync('after', () => 1)");
      expect(traced.spans.map((sp) => sp.name)).toContain('after');
    }
  });
});

describe.each(CASES)('a container whose clean-up fails (%s path, %s, %s)', (path, lang, isolation) => {
  let own: Executor;
  let executor: Executor;
  beforeAll(async () => {
    // A clean-up bound so small that a program leaving many files exceeds it.
    own = await createExecutor({ minIdlePerConfig: 0, maxContainersPerKey: 1, cleanupTimeoutMs: 5, runner: path === 'runner' });
    executor = withIsolation(own, ISOLATION_LEVELS[isolation]);
  });
  afterAll(() => own?.close());

  it('is retired, and the run that caused it still gets its result', async () => {
    const config = { name: `iso-sabotage-${path}-${lang}-${isolation}-${RUN_ID}` };
    const runtimeType = lang === 'python' ? RuntimeType.PYTHON : RuntimeType.NODE;
    const attack =
      lang === 'python'
        ? "import os\nfor i in range(20000): os.close(os.open('/tmp/f%d' % i, os.O_CREAT | os.O_WRONLY))\nprint('left 20000 files')"
        : "const fs = require('fs'); for (let i = 0; i < 20000; i++) fs.closeSync(fs.openSync('/tmp/f' + i, 'w')); console.log('left 20000 files')";
    const a = await executor.execute({ runtimeType, command: program(lang, attack), config });
    expect([a.exitCode, text(a.stdout), a.usage?.via]).toEqual([0, 'left 20000 files\n', path]);
    const count = lang === 'python' ? "import os; print(len(os.listdir('/tmp')))" : "console.log(require('fs').readdirSync('/tmp').length)";
    const c = await executor.execute({ runtimeType, command: program(lang, count), config });
    expect(text(c.stdout)).toBe('0\n');
    expect(c.containerId).not.toBe(a.containerId);
    // Why the run moved is said in its trace where it moved: the runner refused the container
    // at the next RUN (by docker exec, the clean-up's failure retired it at once).
    const replaced = c.spans.find((s) => s.name === 'docker.execute')?.attributes?.['loom.container_replaced'];
    if (path === 'runner') expect(replaced).toMatch(/ replaced: .*could not be cleaned after the last run/);
    else expect(replaced).toBeUndefined();
    // The sabotaged container is gone from the engine, not merely set aside.
    await expect(docker.getContainer(a.containerId).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });
});

// The language runtimes (their images: `npm run images -- languages`): a program given as
// source plants a file and a setsid'd process that escapes its group; the next run on the same
// container finds neither (and no source or build directory of the attack's).
const LANGUAGE_ATTACKS: [Exclude<Runtime, 'python' | 'node' | 'custom'>, string][] = [
  ['bash', 'echo secret > /tmp/planted; setsid sleep 1000 </dev/null >/dev/null 2>&1 &'],
  ['ruby', 'File.write("/tmp/planted", "secret")\nfork { Process.setsid; sleep 1000 }\nputs "planted"'],
  [
    'go',
    'package main\n\nimport (\n\t"os"\n\t"os/exec"\n)\n\nfunc main() {\n\tos.WriteFile("/tmp/planted", []byte("secret"), 0o644)\n\texec.Command("setsid", "sleep", "1000").Start()\n}\n',
  ],
  [
    'rust',
    'use std::process::{Command, Stdio};\n\nfn main() {\n    std::fs::write("/tmp/planted", "secret").unwrap();\n    Command::new("setsid").args(["sleep", "1000"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();\n}\n',
  ],
  [
    'java',
    'import java.nio.file.*;\n\npublic class Main {\n    public static void main(String[] args) throws Exception {\n        Files.writeString(Path.of("/tmp/planted"), "secret");\n        new ProcessBuilder("setsid", "sleep", "1000").start();\n    }\n}\n',
  ],
];

describe.each(LANGUAGE_ATTACKS)('isolation between runs (runner path, %s source)', (lang, attack) => {
  it('files and processes a program leaves do not reach the next run', async () => {
    await docker.getImage(LANGUAGE_IMAGES[lang]).inspect();
    const runtimeType = RUNTIME_TYPES[lang];
    const config = { name: `iso-${lang}-${RUN_ID}` };
    const a = await base.runner.execute({ runtimeType, source: attack, config, timeoutSeconds: 120 });
    expect([a.exitCode, a.compileError, a.usage?.via]).toEqual([0, false, 'runner']);
    const check = 'ls -A /tmp /dev/shm | tr "\\n" " "; echo; for p in /proc/[0-9]*; do cat $p/comm; done 2>/dev/null | grep -c "^sleep$"';
    const c = await base.runner.execute({ runtimeType, command: ['bash', '-c', check], config });
    expect(c.containerId, 'the check ran in the attacked container').toBe(a.containerId);
    expect(text(c.stdout)).toBe('/dev/shm:  /tmp: \n0\n');
  }, 180_000);
});

// The runner imports zipfile to pack a Java program's classes into a jar. A child forked by the
// runner itself, or by a forker made after that (one killed by a program), must not have it: a
// later Python program would then know that a Java program ran before it in this container.
it("a module the runner imported for a Java program is not in a later Python program's interpreter, though the spares and forkers were made again", async () => {
  await docker.getImage(LANGUAGE_IMAGES.java).inspect();
  const runtimeType = RUNTIME_TYPES.java;
  const config = { name: `iso-java-modules-${RUN_ID}` };
  const run = (req: { source?: string; command?: string[] }): Promise<ExecuteResponse> => base.runner.execute({ runtimeType, config, timeoutSeconds: 120, ...req });
  const java = await run({ source: 'public class Main {\n    public static void main(String[] args) {\n        System.out.println("jar");\n    }\n}\n' });
  expect([java.exitCode, text(java.stdout)]).toEqual([0, 'jar\n']);
  // (A fresh interpreter, -B: not a forked one. With the spares gone, the next lean program's
  // child is forked by the runner itself, its new forker not being ready yet.)
  const kill = "import os, signal\nfor p in filter(str.isdigit, os.listdir('/proc')):\n  try:\n    if open('/proc/%s/comm' % p).read().strip() in ('loom-forker', 'loom-spare'): os.kill(int(p), signal.SIGKILL)\n  except OSError: pass";
  expect((await run({ command: ['python3', '-B', '-c', kill] })).exitCode).toBe(0);
  const seen = await run({ command: ['python3', '-c', "import sys\nprint('zipfile' in sys.modules)"] });
  expect(seen.containerId, 'the same container').toBe(java.containerId);
  expect([text(seen.stdout), text(seen.stderr), seen.usage?.via]).toEqual(['False\n', '', 'runner']);
}, 240_000);

// The Python runner starts no clean-up after a program that provably left nothing (its
// left_nothing: no child, no IPC object, empty writable places), under gVisor too, where it finds
// children and IPC objects without /proc/PID/task/TID/children and /proc/sysvipc. Seen from
// inside: the clean-up loom-init waiting for its turn (a child of the runner's) is the same
// process across runs that leave nothing, and a new one after a run that left a file.
describe.each(ISOLATIONS)('the clean-up after a program that leaves nothing (runner path, python, %s)', (isolation) => {
  it('is not started; after one that leaves a file it is', async () => {
    const config = { name: `iso-nothing-${isolation}-${RUN_ID}` };
    const waitingCleaner =
      `${PY_FIND_RUNNER}\n` +
      'for p in os.listdir("/proc"):\n    if p.isdigit():\n        try:\n            s = open("/proc/%s/stat" % p).read()\n        except OSError:\n            continue\n' +
      '        if s.split("(")[1].startswith("loom-init") and int(s.rpartition(")")[2].split()[1]) == runner:\n            print(p)';
    const run = (code: string): Promise<ExecuteResponse> => executorFor('runner', isolation).execute({ command: ['python3', '-c', code], config });
    const seen: string[] = [];
    for (const leave of [false, false, false, true, false]) {
      const r = await run(waitingCleaner + (leave ? '\nopen("/tmp/left", "w").close()' : ''));
      expect([r.exitCode, text(r.stderr), r.usage?.via]).toEqual([0, '', 'runner']);
      seen.push(text(r.stdout).trim());
    }
    // Runs 1-3 left nothing: one cleaner waited through them (the first run may precede it).
    expect(seen[1]).toMatch(/^\d+$/);
    expect(seen[2]).toBe(seen[1]);
    expect(seen[3]).toBe(seen[1]);
    // Run 4 left a file: its clean-up used that cleaner (run 5 sees another, or none yet).
    expect(seen[4]).not.toBe(seen[3]);
  });
});
