// Loom's in-container runner (Node 18+, CommonJS, built-in modules only): the main process of
// a Node container (or, in a container that idles, started by one attached exec where there is
// node but no python3). The host asks it to run programs one at a time.
//
// The protocol (frames, payloads, limits) is described once, in
// electron/main/engine/runner/protocol.json; loom-protocol.js beside this file is generated from it.
// Output is forwarded as it arrives. One execution at a time: a RUN while another runs gets ERROR
// code "busy". When stdin closes, the runner kills what runs and exits.
//
// Node cannot fork an initialised interpreter, so every program gets a fresh process; to be fast
// one spare node is kept started (this file with --loom-spare), blocked reading its job from fd 3.
// `node -e CODE` and `node FILE` are handed to the spare, which becomes that program (argv, env,
// cwd, then the code run as node runs it); the next spare is started once the program and all
// it left are gone, so that no program ever runs beside a waiting spare (see ensureSpare).
// Anything else is spawned as it is (the waiting spare discarded first). Every program has its
// own session (detached), so its whole process group is SIGKILLed at the deadline, on KILL, and
// when it exits; leftovers that escaped the group are found in /proc and killed before EXIT, so
// nothing survives into the next execution.
// Every run starts from a clean slate: after EXIT, loom-init --clean (resources/native) kills
// every process but the runner (known by PID and start time), removes the SysV IPC objects and
// empties /tmp, /dev/shm and /dev/mqueue; frames from the host wait meanwhile. A clean-up that
// fails leaves the runner refusing every later RUN (ERROR "unclean"). With --keep-state (a
// container one caller owns; the bench's baseline for the clean-up) nothing is cleaned.
// The runner makes itself undumpable first (resources/native/nodump.c): it runs as the programs'
// user, and a dumpable process of that user can be read and written by any program.
// A program in a spare sees what `node` would show it, with known exceptions: the spare's own
// 'exit' and 'uncaughtExceptionMonitor' listeners (listenerCount, and the line of node's events.js
// in the stack of an error thrown by an exit listener), and fd 3, the spare's channel to the
// runner (its job, and its last word: a program could write a false one, about its own run only).
// Every program this runner starts, in a spare or not, has socket pairs for its stdio where
// `docker exec` gives pipes (`test -p /dev/stdin` is false): Node's child_process makes no other
// kind, and Node cannot make a pipe itself.
'use strict';

const fs = require('fs');
const path = require('path');

const SPARE_FLAG = '--loom-spare';
/** Node's process.arch as the kernel (and resources/native/bin) names it. */
const ARCH = { x64: 'x86_64', arm64: 'aarch64' };

if (process.argv[2] === SPARE_FLAG) {
  spare();
} else {
  server();
}

// -- the spare: becomes one program ------------------------------------------------------

function spare() {
  const Module = require('module');
  const vm = require('vm');
  // Built-in modules nearly every program loads (console.log on a pipe alone needs net and the
  // streams: ~30 internal modules), loaded while nobody waits. A program cannot tell: built-ins
  // are not in require.cache, and loading one has no side effects.
  for (const name of ['net', 'stream', 'tty', 'util', 'os', 'url', 'child_process', 'string_decoder', 'fs/promises']) require(name);
  // More of what a first console.log costs (~3 ms): the stdio streams (fds 1 and 2 already are
  // the program's pipes), and the formatting code, run once so that it is compiled.
  // (The getters of process.stdout and process.stderr create them.)
  require('util').format('%s %d %j %o', process.stdout.isTTY, 1, {}, [process.stderr.isTTY]);
  // The wrapper that makes `node -e`'s globals, compiled now (~1 ms); the module it belongs
  // to is given the program's cwd once the job is known.
  const evalModule = new Module('[eval]');
  const enterEval = evalModule._compile(
    'globalThis.module = module; globalThis.exports = exports; globalThis.__dirname = __dirname; ' +
      'globalThis.require = require; return (main) => main();',
    '[eval]-wrapper',
  );
  const job = readJob();
  if (!job) process.exit(0); // the runner is gone
  // The program's CPU is what it used from here: node's own start-up happened before it existed.
  const booted = process.resourceUsage();

  // An uncaught exception or unhandled rejection emits 'exit' before node prints it: such an
  // end is left to node (see lastWord).
  let fatal = false;
  process.on('uncaughtExceptionMonitor', () => {
    fatal = process.listenerCount('uncaughtException') === 0 && !process.hasUncaughtExceptionCaptureCallback();
  });
  // Registered before the program's own listeners. Where it is the last one (the program added
  // none), it sends the runner its last word (usage and exit code), closes its stdio and ends
  // the way process.exit() does: the runner can report the end at once instead of after node
  // has torn its environment down and the kernel its memory (~4 ms). Otherwise (listeners to
  // run after it, or a fatal error still to be printed) it only leaves the usage, and the end
  // is node's, exactly as without it.
  process.on('exit', function lastWord() {
    const listeners = process.rawListeners('exit');
    const last = listeners[listeners.length - 1] === lastWord && !fatal;
    const ru = process.resourceUsage();
    const ownUs = ru.userCPUTime + ru.systemCPUTime - booted.userCPUTime - booted.systemCPUTime;
    const [minorFaults, majorFaults] = childrenFaults('/proc/self/stat');
    const usage = {
      cpuMs: ownUs / 1000 + childrenTicks('/proc/self/stat') * 10,
      peakRssKb: ru.maxRSS,
      // The program's page faults: its own since its job came, and its children's.
      minorFaults: ru.minorPageFault - booted.minorPageFault + minorFaults,
      majorFaults: ru.majorPageFault - booted.majorPageFault + majorFaults,
      exitCode: last ? (process.exitCode | 0) & 0xff : null,
    };
    try {
      fs.writeSync(3, `${JSON.stringify(usage)}\n`);
    } catch {
      return; // fd 3 closed by the program or the runner gone: the runner reports what it measured
    }
    if (!last) return;
    for (const fd of [1, 2, 3]) {
      try {
        fs.closeSync(fd);
      } catch {
        // closed by the program
      }
    }
    process.reallyExit(process.exitCode || 0);
  });

  for (const key of Object.keys(process.env)) delete process.env[key];
  Object.assign(process.env, job.env);
  process.chdir(job.cwd);
  // NODE_PATH and HOME were read when this process started: read them again for require().
  Module._initPaths();
  delete require.cache[__filename];
  // Nothing of the spare should look like the program's main module.
  process.mainModule = undefined;

  // Node's own options (-e CODE): what child_process.fork passes on, as node would.
  process.execArgv = job.execArgv;
  if (job.mode === 'eval') {
    process.argv = [process.execPath, ...job.args];
    process._eval = job.code;
    runEval(evalModule, enterEval, vm, job.code, job.cwd);
  } else {
    process.argv = [process.execPath, job.file, ...job.args];
    // Node's own entry point for `node FILE`: CommonJS or ES module, require.main, all of it.
    Module.runMain();
  }
}

/** The job line from fd 3, read blocking: a spare has nothing else to do until then. */
function readJob() {
  const chunks = [];
  const buf = Buffer.alloc(64 * 1024);
  for (;;) {
    let n;
    try {
      n = fs.readSync(3, buf, 0, buf.length, null);
    } catch (err) {
      if (err.code === 'EAGAIN' || err.code === 'EINTR') continue;
      return null;
    }
    if (n === 0) return null;
    const nl = buf.indexOf(10);
    chunks.push(Buffer.from(buf.subarray(0, n)));
    if (nl !== -1 && nl < n) break;
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

// What node does for `-e` (lib/internal/process/execution.js evalScript): module, exports,
// require and __dirname are globals made by a CommonJS wrapper for a module named '[eval]' in the
// cwd (compiled before the job came: `enter`); __filename is '[eval]'; the code runs as a script
// in this context.
function runEval(mod, enter, vm, code, cwd) {
  mod.filename = path.join(cwd, '[eval]');
  mod.paths = require('module')._nodeModulePaths(cwd);
  globalThis.__filename = '[eval]';
  // Made when the wrapper was compiled, while this file was still the main module.
  globalThis.require.main = process.mainModule;
  enter(() => vm.runInThisContext(code, { filename: '[eval]', displayErrors: true }));
}

/** cutime + cstime (clock ticks) of a /proc/PID/stat: the CPU of children that were waited for. */
function childrenTicks(file) {
  const f = statFields(fs.readFileSync(file, 'latin1'));
  return Number(f[13]) + Number(f[14]);
}

/** [minor, major] page faults of the children a /proc/PID/stat's process waited for (cminflt, cmajflt). */
function childrenFaults(file) {
  const f = statFields(fs.readFileSync(file, 'latin1'));
  return [Number(f[8]), Number(f[10])];
}

/** [minor, major] page faults of a /proc/PID/stat's process itself (minflt, majflt); [0, 0] if it is gone. */
function ownFaults(file) {
  try {
    const f = statFields(fs.readFileSync(file, 'latin1'));
    return [Number(f[7]), Number(f[9])];
  } catch {
    return [0, 0];
  }
}

/** The fields of /proc/PID/stat after the command name (which may hold spaces and parentheses). */
function statFields(stat) {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

// -- the server -------------------------------------------------------------------------

function server() {
  const undumpable = makeUndumpable();
  const { spawn } = require('child_process');
  const { signals } = require('os').constants;
  const vm = require('vm');
  // (Required here, not at the top: a spare, which becomes a program, must not have them in
  // require.cache.)
  const { FrameType, HEADER_SIZE, MAX_CHUNK, MAX_PAYLOAD, PROTOCOL_VERSION, SPAN_POLL_MS } = require('./loom-protocol.js');
  const { SpanFile } = require('./loom-span-file.js');
  const { RUN, STDIN, STDIN_EOF, KILL, HELLO, PING, READY, STARTED, STDOUT, STDERR, EXIT, ERROR, SPANS, PONG } = FrameType;
  // After the program exits and its group is killed, how long pipes still held open by
  // something unkillable may delay EXIT.
  const DRAIN_MS = 250;
  const SWEEP_MS = 500;
  // Variables node reads only when it starts: a program whose value differs needs a fresh node.
  const STARTUP_VARS = /^(NODE_(?!PATH$|ENV$|TLS_REJECT_UNAUTHORIZED$)|UV_)/;
  const LOCALE_VARS = ['LC_ALL', 'LC_CTYPE', 'LANG'];

  // The clean-up between runs (see the top of this file) and its time bound, which the host sets
  // for the container (LOOM_CLEAN_MS; programs cannot): loom-init keeps to it in CPU time, and to
  // 10 s more in wall time; the runner gives up on it a second after that.
  const clean = !process.argv.includes('--keep-state');
  const CLEAN_MS = Number(process.env.LOOM_CLEAN_MS) || 2000;
  const CLEAN_WALL_MS = CLEAN_MS + 11_000;
  const INIT = path.join(__dirname, '..', 'native', 'bin', `loom-init-${ARCH[process.arch] ?? process.arch}`);
  let cleaning = false;
  let unclean = null;
  let nextCleaner = null;

  const initialEnv = { ...process.env };
  // Thousands by now, where the kernel counts them; gVisor counts none: EXIT then leaves the
  // counts out (rather than zeros nobody measured), and a run reads no /proc for them.
  const faultsCounted = ownFaults('/proc/self/stat').some((n) => n > 0);
  const startTicks = Number(statFields(fs.readFileSync('/proc/self/stat', 'latin1'))[19]);
  // A program runs as the runner's user, so it may lower the runner's limits or priority (no
  // ptrace needed), which every later spare would inherit: loom-init digests them now, before
  // any program, and each clean-up fails if they changed (loom-init.c, "what a program may
  // change"). Undoing it would need privileges: such a container is retired.
  const inherited = clean ? initState(process.pid) : null;
  const execReal = realpath(process.execPath);
  let inbuf = Buffer.alloc(0);
  let job = null;
  // The host's PING: how long it may stay silent while a program runs (0: it does not ping),
  // and when it was last heard.
  let hostSilenceMs = 0;
  let heardAt = Date.now();
  let spareChild = null;
  let oomKills = oomKillCount();

  const send = (type, id, payload = Buffer.alloc(0)) => {
    const head = Buffer.allocUnsafe(HEADER_SIZE);
    head.writeUInt8(type, 0);
    head.writeUInt32BE(id >>> 0, 1);
    head.writeUInt32BE(payload.length, 5);
    // Writes to a pipe are synchronous on Linux: frames leave in order, never interleaved.
    process.stdout.write(Buffer.concat([head, payload]));
  };
  const sendJson = (type, id, body) => send(type, id, Buffer.from(JSON.stringify(body), 'utf8'));
  const error = (id, code, message) => sendJson(ERROR, id, { message, code });
  const sendOutput = (type, id, data) => {
    for (let at = 0; at < data.length; at += MAX_CHUNK) send(type, id, data.subarray(at, at + MAX_CHUNK));
  };

  function startSpare() {
    const child = spawn(process.execPath, [__filename, SPARE_FLAG], {
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      argv0: 'node',
      cwd: '/',
      env: initialEnv,
    });
    child.on('error', () => undefined);
    preferForOom(child.pid);
    child.once('exit', () => {
      // A spare that died idle (killed by a program) is replaced when it is next needed.
      if (spareChild === child) spareChild = null;
    });
    return child;
  }

  function takeSpare() {
    const child = spareChild && spareChild.exitCode === null && spareChild.signalCode === null ? spareChild : startSpare();
    spareChild = null;
    try {
      process.kill(child.pid, 'SIGCONT'); // in case something that escaped a sweep stopped it
    } catch {
      // not running (it died, or never started): the caller and its exit handler see to it
    }
    return child;
  }

  // -- frames from the host ------------------------------------------------------------

  process.stdin.on('data', (data) => {
    heardAt = Date.now();
    inbuf = inbuf.length ? Buffer.concat([inbuf, data]) : data;
    parseInput();
  });

  /** Handles the complete frames read so far; stops at a clean-up, which the next RUN waits for. */
  function parseInput() {
    while (inbuf.length >= HEADER_SIZE && !cleaning) {
      const length = inbuf.readUInt32BE(5);
      if (length > MAX_PAYLOAD) {
        process.stderr.write(`loom-runner: frame of ${length} bytes, the stream is out of step\n`);
        shutdown();
        return;
      }
      if (inbuf.length < HEADER_SIZE + length) break;
      const type = inbuf[0];
      const id = inbuf.readUInt32BE(1);
      const payload = Buffer.from(inbuf.subarray(HEADER_SIZE, HEADER_SIZE + length));
      inbuf = inbuf.subarray(HEADER_SIZE + length);
      try {
        dispatch(type, id, payload);
      } catch (err) {
        // A request the runner did not foresee must not take the runner down.
        process.stderr.write(`loom-runner: ${err && err.stack}\n`);
        if (type === RUN && (!job || job.id !== id)) error(id, 'spawn_failed', `the runner could not start the program: ${err && err.message}`);
      }
    }
  }
  // The host is gone: nobody will read the output, nothing may outlive us.
  process.stdin.on('end', shutdown);
  process.stdout.on('error', shutdown);

  function shutdown() {
    if (job) killGroup(job.child.pid);
    if (spareChild) killGroup(spareChild.pid);
    if (nextCleaner) nextCleaner.child.kill('SIGKILL');
    process.exit(0);
  }

  function dispatch(type, id, payload) {
    if (type === HELLO) {
      // A new host attached (the container's main process outlives each host's stream); it
      // says itself whether it pings.
      hostSilenceMs = 0;
      ready();
      return;
    }
    if (type === PING) {
      hostSilenceMs = payload.length >= 4 ? payload.readUInt32BE(0) : 0;
      if (job) send(PONG, 0); // the host's proof, while a program runs, that this runner is not wedged
      return;
    }
    if (type === RUN) {
      if (job) error(id, 'busy', `another execution (${job.id}) is running`);
      else start(id, payload);
      return;
    }
    if (!job || job.id !== id) return; // late frames of a finished execution
    if (type === STDIN) {
      if (!job.stdinClosed && payload.length) job.child.stdin.write(payload);
    } else if (type === STDIN_EOF) {
      if (!job.stdinClosed) job.child.stdin.end();
      job.stdinClosed = true;
    } else if (type === KILL) {
      if (!job.exited) killGroup(job.child.pid);
    }
  }

  // -- starting a program ---------------------------------------------------------------

  /** The first writable path with under 1 MiB or no inodes free, or null. */
  function exhaustedSpace() {
    for (const path of ['/tmp', '/dev/shm']) {
      let st;
      try {
        st = fs.statfsSync(path);
      } catch {
        continue;
      }
      if (st.bavail * st.bsize < 1 << 20 || (st.files > 0 && st.ffree === 0)) return path;
    }
    return null;
  }

  function start(id, payload) {
    let req;
    try {
      req = JSON.parse(payload.toString('utf8'));
      const { argv, env, cwd } = req;
      if (!Array.isArray(argv) || !argv.length || !argv.every((a) => typeof a === 'string')) throw new Error('argv must be a non-empty list of strings');
      if (typeof env !== 'object' || env === null || !Object.values(env).every((v) => typeof v === 'string')) throw new Error('env must map strings to strings');
      if (typeof cwd !== 'string' || !cwd) throw new Error('cwd must be a path');
      if ([...argv, ...Object.keys(env), ...Object.values(env), cwd].some((s) => s.includes('\0'))) throw new Error('NUL byte in argv, env or cwd');
      if (req.spanFile != null && (typeof req.spanFile !== 'string' || req.spanFile.includes('\0'))) throw new Error('spanFile must be a path');
      if (req.source != null && (typeof req.source !== 'string' || req.language !== 'node')) throw new Error('this runner runs node sources only (language "node", source a string)');
    } catch (err) {
      error(id, 'bad_request', `malformed RUN request: ${err.message}`);
      return;
    }
    const { env, cwd } = req;
    let { argv } = req;
    const timeoutMs = Number(req.timeoutMs) || 0;
    if (unclean !== null) {
      error(id, 'unclean', `the container could not be cleaned after the last run (${unclean}): it must not be reused`);
      return;
    }
    const full = exhaustedSpace();
    if (full) {
      // A previous program filled the writable space: the host moves this run elsewhere.
      error(id, 'exhausted', `${full} is full`);
      return;
    }
    if (!isDir(cwd)) {
      error(id, 'bad_cwd', `working directory ${cwd} does not exist`);
      return;
    }
    // A source program: written to a directory of its own under /tmp (as loom_build.py does for
    // the Python runner), removed when the run ends.
    let sourceDir = null;
    if (req.source != null) {
      try {
        sourceDir = fs.mkdtempSync(`/tmp/.loom-${process.pid}-${id}-`);
        const file = path.join(sourceDir, 'main.js');
        fs.writeFileSync(file, req.source, { mode: 0o600 });
        argv = ['node', file];
      } catch (err) {
        if (sourceDir) fs.rmSync(sourceDir, { recursive: true, force: true });
        error(id, 'spawn_failed', `node program: ${err.message}`);
        return;
      }
    }
    const plan = nodePlan(argv, env, cwd);
    const before = ownChildrenTicks();
    const faultsFrom = faultsAtRun(plan);
    let child;
    // STARTED goes before the program can run anything: from its first instruction it may stop
    // or kill this runner, and the host must know that it may have run (protocol.json).
    if (plan) {
      child = takeSpare();
      if (child.pid === undefined) {
        child.once('error', (err) => error(id, 'spawn_failed', `node: ${err.message}`));
        return;
      }
      sendJson(STARTED, id, { pid: child.pid, compiling: false });
      child.stdio[3].write(`${JSON.stringify({ ...plan, env, cwd })}\n`);
    } else {
      discardSpare();
      sendJson(STARTED, id, { pid: 0, compiling: false });
      try {
        child = spawn(argv[0], argv.slice(1), { detached: true, stdio: ['pipe', 'pipe', 'pipe'], env, cwd });
        preferForOom(child.pid);
      } catch (err) {
        error(id, 'spawn_failed', `${argv[0]}: ${err.message}`);
        return;
      }
      if (child.pid === undefined) {
        // spawn reports a missing or unrunnable program by an 'error' event, not by throwing.
        child.once('error', (err) => {
          const code = err.code === 'ENOENT' ? 'not_found' : err.code === 'EACCES' ? 'not_executable' : 'spawn_failed';
          error(id, code, `${argv[0]}: ${err.message}`);
        });
        return;
      }
    }
    job = {
      id,
      child,
      timeoutMs,
      started: performance.now(),
      before,
      faultsFrom,
      stdinClosed: false,
      exited: null,
      timedOut: false,
      usage: null,
      peakRssKb: 0,
      timers: [],
      open: 0,
      finished: false,
      spans: req.spanFile ? new SpanFile(req.spanFile) : null,
      sourceDir,
    };
    watch(job, plan !== null);
    // Started while the program runs (it cannot read or change it: loom-init is unreadable to the
    // sandbox user, so it is undumpable from its first instruction).
    startAhead();
  }

  // No program ever runs beside a waiting spare: the spare is the same user's and dumpable (node
  // cannot say otherwise), so a program could write a job of its own into its pipe through
  // /proc/PID/fd and so run code as the next execution, or stop it. The next spare starts once
  // the program and all it left behind are gone (see finish); a program that does not use the
  // spare has it discarded first.
  function ensureSpare() {
    // (Scheduled at a program's end: a next program may have started since.)
    if (!spareChild && !job) spareChild = startSpare();
  }

  function discardSpare() {
    if (spareChild) killGroup(spareChild.pid);
    spareChild = null;
  }

  function watch(j, fromSpare) {
    const { child, id } = j;
    child.stdin.on('error', () => undefined); // the program exited without reading its stdin
    child.stdout.on('data', (d) => sendOutput(STDOUT, id, d));
    child.stderr.on('data', (d) => sendOutput(STDERR, id, d));
    if (fromSpare) {
      let partial = '';
      child.stdio[3].on('data', (d) => {
        const lines = (partial + d.toString('utf8')).split('\n');
        partial = lines.pop();
        for (const line of lines) {
          let u;
          try {
            u = JSON.parse(line);
          } catch {
            continue; // not ours: the program wrote to fd 3
          }
          if (typeof u.cpuMs !== 'number' || typeof u.peakRssKb !== 'number') continue;
          j.usage = u;
          // The spare's last word: the program is over, the process is only being torn down.
          if (Number.isInteger(u.exitCode)) ended(j, u.exitCode, null);
        }
      });
      child.stdio[3].on('error', () => undefined);
    }
    // Peak memory of a program that reports none (spawned as is, or killed): sampled.
    const sample = () => {
      const hwm = vmHwmKb(child.pid);
      if (hwm > j.peakRssKb) j.peakRssKb = hwm;
    };
    sample();
    j.timers.push(setInterval(sample, 50));
    if (j.spans) j.timers.push(setInterval(() => followSpans(j, false), SPAN_POLL_MS));
    const { timeoutMs } = j;
    if (timeoutMs > 0) {
      j.timers.push(
        setTimeout(() => {
          if (j.exited) return;
          j.timedOut = true;
          killGroup(child.pid);
        }, timeoutMs),
      );
    }
    watchHost(j);
    child.once('exit', (code, signal) => ended(j, code, signal));
    // Done when the program has ended and its output pipes are closed (the last of them at
    // most DRAIN_MS later).
    for (const stream of [child.stdout, child.stderr, child.stdio[3]]) {
      if (!stream) continue;
      j.open++;
      stream.once('close', () => {
        j.open--;
        finish(j);
      });
    }
  }

  /**
   * Kills the program when the host stops saying it is alive: it died without closing the
   * stream (which stays open for the next host), and nobody will read what the program does.
   */
  function watchHost(j) {
    if (!hostSilenceMs) return;
    const check = () => {
      if (j.exited || !hostSilenceMs) return;
      const silentFor = Date.now() - heardAt;
      if (silentFor >= hostSilenceMs) killGroup(j.child.pid);
      else j.timers.push(setTimeout(check, hostSilenceMs - silentFor));
    };
    j.timers.push(setTimeout(check, hostSilenceMs));
  }

  function ended(j, code, signal) {
    if (j.exited) return;
    j.exited = { code, signal };
    // Background processes must not outlive the program, nor hold its pipes open.
    killGroup(j.child.pid);
    sweep(j.child.pid);
    j.timers.push(setTimeout(() => finish(j, true), DRAIN_MS));
    finish(j);
  }

  function finish(j, drained = false) {
    if (j.finished || !j.exited || (j.open > 0 && !drained)) return;
    j.finished = true;
    for (const t of j.timers) clearTimeout(t);
    for (const s of [j.child.stdin, j.child.stdout, j.child.stderr, j.child.stdio[3]]) {
      if (s) s.destroy();
    }
    followSpans(j, true);
    const { code, signal } = j.exited;
    const signo = signal ? signals[signal] || 0 : 0;
    const measuredCpu = (ownChildrenTicks() - j.before) * 10;
    if (job === j) job = null;
    const oomBefore = oomKills;
    oomKills = oomKillCount();
    sendJson(EXIT, j.id, {
      exitCode: signal ? 128 + signo : code ?? 0,
      signal: signal || null,
      timedOut: j.timedOut,
      wallMs: Math.round((performance.now() - j.started) * 1000) / 1000,
      cpuMs: j.usage ? j.usage.cpuMs : measuredCpu,
      peakRssKb: j.usage ? Math.max(j.usage.peakRssKb, j.peakRssKb) : j.peakRssKb,
      oomKilled: oomKills > oomBefore,
      ...runFaults(j),
      compileError: false,
      compileMs: 0,
      compileCached: false,
    });
    if (j.sourceDir) fs.rmSync(j.sourceDir, { recursive: true, force: true });
    if (clean) startCleaner();
    else setImmediate(ensureSpare);
  }

  // -- the clean-up between runs ------------------------------------------------------------

  /** loom-init's digest of a process's inherited state (its limits, priority, CPUs); null if it cannot run. */
  function initState(pid) {
    try {
      return require('child_process').execFileSync(INIT, ['--state', String(pid)], { encoding: 'latin1', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return null;
    }
  }

  /**
   * A loom-init --clean --stdin, started ahead: it waits for what to keep on its stdin. null when
   * it cannot be started now (startCleaner tries again when it is needed).
   */
  function spawnCleaner() {
    let child;
    try {
      // (It reads its bound, LOOM_CLEAN_MS, from the environment, as it does under docker exec.)
      child = spawn(INIT, ['--clean', '--stdin'], { stdio: ['pipe', 'pipe', 'pipe'], env: initialEnv });
    } catch {
      return null;
    }
    const cleaner = { child, said: '', processesDone: false, ended: null, onEnd: null, onProcessesDone: null };
    child.stdin.on('error', () => undefined);
    for (const stream of [child.stdout, child.stderr]) stream.on('data', (d) => (cleaner.said = (cleaner.said + d.toString('utf8')).slice(-4096)));
    child.stdout.on('data', () => {
      // Its first line once no process is left but those kept (--say-processes).
      if (cleaner.processesDone || !cleaner.said.includes('\n')) return;
      cleaner.processesDone = cleaner.said.startsWith('processes ');
      if (cleaner.processesDone) cleaner.onProcessesDone?.();
    });
    const end = (how) => {
      if (cleaner.ended) return;
      cleaner.ended = how;
      if (nextCleaner === cleaner) nextCleaner = null; // died waiting (killed by a program)
      cleaner.onEnd?.(how);
    };
    child.once('error', (err) => end({ problem: `${INIT} could not start: ${err.message}` }));
    const lastWords = () => (cleaner.processesDone ? cleaner.said.slice(cleaner.said.indexOf('\n') + 1) : cleaner.said).trim();
    child.once('close', (code, signal) => end(code === 0 ? { problem: null } : { problem: lastWords() || `loom-init --clean ended with ${signal || `status ${code}`}` }));
    return cleaner;
  }

  /** Starts the next run's clean-up while a program runs: off the path between two runs. */
  function startAhead() {
    if (clean && !nextCleaner && unclean === null) nextCleaner = spawnCleaner();
  }

  function startCleaner() {
    cleaning = true;
    process.stdin.pause();
    let overdue;
    const done = (problem) => {
      if (!cleaning) return;
      cleaning = false;
      clearTimeout(overdue);
      if (problem) unclean = problem;
      process.stdin.resume();
      ensureSpare();
      parseInput();
    };
    let cleaner = nextCleaner;
    nextCleaner = null;
    if (!cleaner || cleaner.ended) cleaner = spawnCleaner();
    if (!cleaner) return done(`${INIT} could not start`);
    overdue = setTimeout(() => {
      try {
        process.kill(cleaner.child.pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
      done(`the clean-up did not end within ${CLEAN_WALL_MS} ms`);
    }, CLEAN_WALL_MS);
    cleaner.onEnd = ({ problem }) => done(problem);
    // The next spare starts once what programs left is killed, while files are removed: the two
    // overlap (a spare started earlier would be killed as a program's).
    cleaner.onProcessesDone = ensureSpare;
    try {
      process.kill(cleaner.child.pid, 'SIGCONT'); // a program may have stopped it while it waited
    } catch {
      // not running: its end (or spawn error) is on the way
    }
    const state = inherited ? ` --state ${process.pid}=${inherited}` : '';
    cleaner.child.stdin.end(`--say-processes --keep ${process.pid}:${startTicks}${state}\n`);
  }

  /**
   * Sends what the program's tracing appended to its span file since the last call; the final
   * call (after the program and its group are gone) sends the rest and removes the file.
   */
  function followSpans(j, final) {
    if (!j.spans) return;
    j.spans.read((chunk) => send(SPANS, j.id, chunk));
    if (final) {
      j.spans.close();
      j.spans = null;
    }
  }

  function killGroup(pid) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // the group is gone already
    }
  }

  /**
   * Kills whatever the program (process `root`, leader of its own session) left behind, also
   * what escaped its group or session. `root` itself may still be exiting (after its last
   * word): it is killed too, but not waited for.
   */
  function sweep(root) {
    const deadline = Date.now() + SWEEP_MS;
    for (;;) {
      const procs = new Map();
      let names;
      try {
        names = fs.readdirSync('/proc');
      } catch {
        return;
      }
      for (const name of names) {
        const pid = Number(name);
        // (No spare is waiting now: none is while a program runs, see ensureSpare.)
        if (!Number.isInteger(pid) || pid === 1 || pid === process.pid) continue;
        try {
          const f = statFields(fs.readFileSync(`/proc/${pid}/stat`, 'latin1'));
          if (f[0] !== 'Z') procs.set(pid, { ppid: Number(f[1]), pgrp: Number(f[2]), session: Number(f[3]), start: Number(f[19]) });
        } catch {
          // gone meanwhile
        }
      }
      const descends = (pid) => {
        for (let p = pid, hops = 0; p > 1 && hops < 64; p = procs.get(p)?.ppid ?? 0, hops++) if (p === root) return true;
        return false;
      };
      let found = false;
      for (const [pid, p] of procs) {
        // Orphans go to PID 1 (docker-init): any that appeared since the runner started came
        // from a program. Not the container's own main process (`sleep infinity`): it is in
        // docker-init's session (1), which no program can join (each runs in a session of its
        // own), and it is not always older than the runner: on a busy machine docker-init forks
        // it after the first docker execs have started.
        const orphan = p.ppid === 1 && p.session !== 1 && p.start >= startTicks;
        if (p.pgrp === root || p.session === root || orphan || descends(pid)) {
          if (pid !== root) found = true;
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone meanwhile
          }
        }
      }
      if (!found || Date.now() >= deadline) return;
      // Killed parents hand their children to PID 1: look again once they are gone.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
    }
  }

  /** How to run argv in a spare, or null to spawn it as it is. */
  function nodePlan(argv, env, cwd) {
    const base = path.basename(argv[0]);
    if (base !== 'node' && base !== 'nodejs') return null;
    const exe = argv[0].includes('/') ? path.resolve(cwd, argv[0]) : which(argv[0], env.PATH ?? '');
    if (!exe || realpath(exe) !== execReal) return null;
    const keys = new Set([...Object.keys(env), ...Object.keys(initialEnv)]);
    for (const key of keys) if (STARTUP_VARS.test(key) && env[key] !== initialEnv[key]) return null;
    if (LOCALE_VARS.some((k) => env[k] !== initialEnv[k])) return null;
    const args = argv.slice(1);
    const first = args[0];
    if (first === '-e' || first === '--eval' || (first ?? '').startsWith('--eval=')) {
      const code = first.startsWith('--eval=') ? first.slice('--eval='.length) : args[1];
      const rest = first.startsWith('--eval=') ? args.slice(1) : args.slice(2);
      // Node would read a later '-x' as one of its own options.
      if (code === undefined || rest.some((a) => a.startsWith('-'))) return null;
      // Code that is not a plain CommonJS script (ES module syntax, top-level await: node
      // detects those) or that imports dynamically (which a vm script cannot without an
      // experimental flag) is left to a real node.
      if (/\bimport\s*\(/.test(code)) return null;
      try {
        new vm.Script(code, { filename: '[eval]' });
      } catch {
        return null;
      }
      return { mode: 'eval', code, args: rest, execArgv: first.startsWith('--eval=') ? [first] : [first, code] };
    }
    if (first === undefined || first.startsWith('-')) return null;
    const file = path.resolve(cwd, first);
    // A missing file gets node's own error message from a real node.
    if (!isFile(file)) return null;
    return { mode: 'file', file, args: args.slice(1), execArgv: [] };
  }

  /**
   * What the page-fault counts of EXIT start from: the runner's own, its waited-for children's,
   * and those of the spare that will run the program (taken before its job: not the program's);
   * null where the kernel counts none.
   */
  function faultsAtRun(plan) {
    if (!faultsCounted) return null;
    const spare = plan && spareChild && spareChild.pid !== undefined ? ownFaults(`/proc/${spareChild.pid}/stat`) : [0, 0];
    let children = [0, 0];
    try {
      children = childrenFaults('/proc/self/stat');
    } catch {
      // no /proc: counted as from 0
    }
    const self = ownFaults('/proc/self/stat');
    return { spare, children, runner: self[0] + self[1] };
  }

  /** The EXIT fields counting page faults from RUN to now (see protocol.json). */
  function runFaults(j) {
    const from = j.faultsFrom;
    if (!from) return {};
    const self = ownFaults('/proc/self/stat');
    let minor;
    let major;
    if (j.usage && typeof j.usage.minorFaults === 'number') {
      // The spare's last word: its own count from its job on.
      minor = j.usage.minorFaults;
      major = j.usage.majorFaults | 0;
    } else {
      // The children reaped since RUN (the program, once reaped), less what a spare took before it.
      let now = from.children;
      try {
        now = childrenFaults('/proc/self/stat');
      } catch {
        // no /proc
      }
      minor = Math.max(0, now[0] - from.children[0] - from.spare[0]);
      major = Math.max(0, now[1] - from.children[1] - from.spare[1]);
    }
    return { minorFaults: minor, majorFaults: major, runnerFaults: self[0] + self[1] - from.runner };
  }

  function ownChildrenTicks() {
    try {
      return childrenTicks('/proc/self/stat');
    } catch {
      return 0;
    }
  }

  const ready = () =>
    sendJson(READY, 0, { runner: 'node', pid: process.pid, start: startTicks, version: PROTOCOL_VERSION, interpreter: process.version, env: initialEnv, clean, undumpable });
  ready();
  spareChild = startSpare();
  startAhead();
}

/**
 * Makes this process undumpable (see resources/native/nodump.c): no program can then ptrace it or
 * open its /proc/PID/mem, fd and environ. True when it is, as /proc/self's owner (root for an
 * undumpable process) shows.
 */
function makeUndumpable() {
  const lib = path.join(__dirname, '..', 'native', 'bin', `nodump-${ARCH[process.arch] ?? process.arch}.so`);
  try {
    process.dlopen({ exports: {} }, lib);
  } catch {
    // "Module did not self-register": expected, its constructor has run. Missing: checked below.
  }
  try {
    return fs.statSync('/proc/self/stat').uid !== process.getuid();
  } catch {
    return false;
  }
}

/**
 * Makes `pid` the OOM killer's first choice in the container, before the runner (which may be
 * its main process: its death would stop the container).
 */
function preferForOom(pid) {
  if (pid === undefined) return;
  try {
    fs.writeFileSync(`/proc/${pid}/oom_score_adj`, '1000');
  } catch {
    // gone already, or not ours to change
  }
}

/** The memory cgroup's count of OOM kills (cgroup v2, then v1). */
function oomKillCount() {
  for (const file of ['/sys/fs/cgroup/memory.events', '/sys/fs/cgroup/memory/memory.oom_control']) {
    try {
      const m = /^oom_kill (\d+)/m.exec(fs.readFileSync(file, 'latin1'));
      if (m) return Number(m[1]);
    } catch {
      // not this cgroup version
    }
  }
  return 0;
}

function vmHwmKb(pid) {
  try {
    const m = /VmHWM:\s*(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function which(name, searchPath) {
  for (const dir of searchPath.split(':')) {
    const candidate = path.join(dir || '.', name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

function realpath(p) {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

function isDir(p) {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isFile(p) {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}
