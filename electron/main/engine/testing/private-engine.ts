// A private Docker engine for tests that must stop or restart "the engine": a second dockerd,
// started here as a child process with its own data root, exec root (and so its own
// containerd), pid file and socket under a temporary directory. Restarting it touches nothing
// that other tests or other users of the machine's engine depend on. Not shipped; not a test.
//
// Needs root and a dockerd binary (the one the machine's engine uses is fine): without them
// startPrivateEngine() throws an Error that says so, so that the tests using it fail, not skip.
import Docker from 'dockerode';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { connectDocker } from '../engine-client/docker-client';

export interface PrivateEngine {
  /** The engine's address in DOCKER_HOST syntax: unix:///tmp/loom-engine-XXXXXX/docker.sock. */
  readonly host: string;
  /** The directory holding everything of this engine (data, exec root, socket, log). */
  readonly dir: string;
  /** A client of this engine. */
  readonly docker: Docker;
  /** What start-up took: dockerd until it answered, and copying the images into it. */
  readonly startMs: number;
  readonly loadMs: number;
  /** SIGTERM to dockerd, wait until it is gone, start it again with the same command line. */
  restart(): Promise<{ downMs: number; upMs: number }>;
  /** Stops dockerd and removes everything under `dir`. Safe to call twice and after failures. */
  stop(): Promise<void>;
  /** The last lines of dockerd's log (both runs, if restarted). */
  logTail(lines?: number): string;
}

export interface PrivateEngineOptions {
  /** Images to copy from the machine's engine (docker save | docker load). */
  images: string[];
  /** The engine to copy the images from. Default: DOCKER_HOST, then the usual sockets. */
  sourceHost?: string;
  /** How long dockerd may take to answer, and to stop. Default 60 s each. */
  timeoutMs?: number;
}

const SOCKET_PATH_MAX = 107;

/** Why this machine cannot run a private engine, or undefined when it can. */
function missingRequirements(): string | undefined {
  const uid = process.getuid?.();
  const dockerd = findOnPath('dockerd');
  const missing: string[] = [];
  if (uid !== 0) missing.push(`to run as root (this process runs as uid ${uid ?? 'unknown'})`);
  if (!dockerd) missing.push(`a dockerd binary on PATH (none in ${process.env.PATH ?? '(PATH is not set)'})`);
  if (!findOnPath('unshare')) missing.push('unshare (util-linux) on PATH');
  if (!missing.length) return undefined;
  return (
    'These tests start a private Docker engine (a second dockerd with its own data root and socket under a temporary directory) and restart it; ' +
    `they need ${missing.join(' and ')}. Run them as root on a machine with Docker's dockerd (and its containerd and runc) installed.`
  );
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether a process is running (a zombie counts as gone). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX]/s.test(stat);
  } catch {
    return false;
  }
}

/** Mount points at or under `dir`, deepest first (as /proc/self/mounts escapes them: \040 etc.). */
function mountsUnder(dir: string): string[] {
  const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
  const points = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1])
    .filter((p): p is string => !!p)
    .map(unescape)
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
  return [...new Set(points)].sort((a, b) => b.split('/').length - a.split('/').length || b.length - a.length);
}

/** Ids of this engine's containers: the entries of its data root's containers/. */
function containerIds(dir: string): string[] {
  try {
    return readdirSync(join(dir, 'data', 'containers')).filter((id) => /^[0-9a-f]{64}$/.test(id));
  } catch {
    return [];
  }
}

/**
 * Pids of this engine's processes: those whose command line names `dir` (its containerd and
 * shims) and those in the cgroup of one of its containers (cgroupfs: /docker/ID; systemd:
 * docker-ID.scope).
 */
function processesOf(dir: string, ids: string[]): number[] {
  const under = (arg: string): boolean => arg === dir || arg.includes(`${dir}/`);
  const inContainer = (cgroup: string): boolean => ids.some((id) => cgroup.includes(`/docker/${id}`) || cgroup.includes(`docker-${id}.scope`));
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) continue;
    try {
      const ours = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').some(under) || (ids.length > 0 && inContainer(readFileSync(`/proc/${pid}/cgroup`, 'utf8')));
      if (ours && alive(pid)) pids.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Removes the (empty) cgroups of these containers that a killed engine left behind. */
function removeCgroups(ids: string[]): void {
  const root = '/sys/fs/cgroup';
  let hierarchies: string[] = [root];
  try {
    hierarchies = [root, ...readdirSync(root).map((name) => join(root, name))];
  } catch {
    // no cgroup filesystem
  }
  for (const id of ids) {
    for (const hierarchy of hierarchies) {
      for (const cgroup of [join(hierarchy, 'docker', id), join(hierarchy, 'system.slice', `docker-${id}.scope`)]) {
        try {
          rmdirSync(cgroup);
        } catch {
          // not there, or (still) in use
        }
      }
    }
  }
}

export async function startPrivateEngine(options: PrivateEngineOptions): Promise<PrivateEngine> {
  const missing = missingRequirements();
  if (missing) throw new Error(missing);
  const timeoutMs = options.timeoutMs ?? 60_000;

  const dir = mkdtempSync(join(tmpdir(), 'loom-engine-'));
  const socket = join(dir, 'docker.sock');
  if (Buffer.byteLength(socket) > SOCKET_PATH_MAX) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`the private engine's socket path ${socket} is longer than the ${SOCKET_PATH_MAX} bytes a unix socket allows (TMPDIR is too deep)`);
  }
  const host = `unix://${socket}`;
  const logFile = join(dir, 'dockerd.log');
  const configFile = join(dir, 'daemon.json');
  // Its own (empty) config: whatever /etc/docker/daemon.json says is the machine engine's.
  writeFileSync(configFile, '{}\n');
  // In a network namespace of its own: its docker0 and any network set-up stay apart from the
  // machine's. (`--bridge none` is no way out: a dockerd started so deletes the machine's docker0.)
  const argv = [
    findOnPath('unshare')!,
    '--net',
    '--',
    findOnPath('dockerd')!,
    '--config-file', configFile,
    '--data-root', join(dir, 'data'),
    '--exec-root', join(dir, 'exec'),
    '--pidfile', join(dir, 'dockerd.pid'),
    '-H', host,
    '--iptables=false',
    '--ip-masq=false',
  ];
  const docker = new Docker({ socketPath: socket });
  // Only for "does it answer": a dockerd that accepts but never answers must not hold the wait.
  const probe = new Docker({ socketPath: socket, timeout: 3_000 });

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let stopped = false;
  let stopping: Promise<void> | undefined;

  const logTail = (lines = 40): string => {
    try {
      return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  };
  const fail = (what: string): Error => new Error(`private engine (${dir}): ${what}\n--- last lines of ${logFile} ---\n${logTail()}`);

  // If the test process exits without stop() (a crash, a killed worker), dockerd at least gets
  // its SIGTERM and stops its containers; the directory is then left behind.
  const onExit = (): void => {
    if (child?.pid && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  };
  process.on('exit', onExit);

  const running = (): boolean => !!child && child.exitCode === null && child.signalCode === null;

  const launch = (): void => {
    const log = openSync(logFile, 'a');
    try {
      writeFileSync(log, `\n=== ${new Date().toISOString()} ${argv.join(' ')}\n`);
      const proc = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', log, log] });
      child = proc;
      exited = new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.once('error', () => resolve());
      });
      proc.once('error', (err) => writeFileSync(logFile, `spawn failed: ${String(err)}\n`, { flag: 'a' }));
    } finally {
      closeSync(log);
    }
  };

  const answers = async (): Promise<boolean> => {
    try {
      await probe.version();
      return true;
    } catch {
      return false;
    }
  };

  const waitUntilAnswers = async (what: string): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!running()) throw fail(`dockerd exited (code ${child?.exitCode}, signal ${child?.signalCode}) before it answered ${what}`);
      if (await answers()) return;
      if (Date.now() > deadline) throw fail(`dockerd did not answer on ${host} within ${timeoutMs / 1000} s ${what}`);
      await sleep(100);
    }
  };

  /** SIGTERM (then, past the bound, SIGKILL) to dockerd; resolves when its pid is gone. */
  const terminate = async (boundMs: number): Promise<boolean> => {
    const proc = child;
    if (!proc?.pid || !running()) return true;
    const pid = proc.pid;
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + boundMs;
    while (alive(pid) && running()) {
      if (Date.now() > deadline) return false;
      await sleep(50);
    }
    await Promise.race([exited, sleep(1_000)]);
    return true;
  };

  // Calls while one runs share it; after a failed stop, the next call tries the cleanup again.
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      stopped = true;
      const problems: string[] = [];
      try {
        if (!(await terminate(timeoutMs))) {
          problems.push(`dockerd (pid ${child?.pid}) did not stop within ${timeoutMs / 1000} s of SIGTERM; killed`);
          if (child?.pid) process.kill(child.pid, 'SIGKILL');
          await Promise.race([exited, sleep(5_000)]);
        }
      } catch (err) {
        problems.push(`stopping dockerd: ${String(err)}`);
      }
      process.off('exit', onExit);
      // Its containerd, shims and containers normally go with it; whatever is left is this engine's.
      const ids = containerIds(dir);
      let leftovers = processesOf(dir, ids);
      if (leftovers.length) {
        problems.push(`processes of the private engine outlived dockerd (${leftovers.join(', ')}); killed`);
        for (const pid of leftovers) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone meanwhile
          }
        }
        const deadline = Date.now() + 5_000;
        while ((leftovers = leftovers.filter(alive)).length && Date.now() < deadline) await sleep(50);
        removeCgroups(ids);
      }
      for (const point of mountsUnder(dir)) {
        try {
          execFileSync('umount', [point], { stdio: 'pipe' });
        } catch {
          try {
            execFileSync('umount', ['-l', point], { stdio: 'pipe' });
          } catch (err) {
            problems.push(`umount -l ${point}: ${String(err)}`);
          }
        }
      }
      const still = mountsUnder(dir);
      if (still.length) {
        // rm -rf across a mount would delete what is mounted there: leave the directory.
        throw fail(`still mounted after umount, so ${dir} is left in place: ${still.join(', ')}${problems.length ? `; ${problems.join('; ')}` : ''}`);
      }
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
      if (problems.length) throw new Error(`private engine (${dir}) stopped, with problems: ${problems.join('; ')}`);
    })().catch((err: unknown) => {
      stopping = undefined;
      throw err;
    });
    return stopping;
  };

  const startedAt = Date.now();
  let startMs = 0;
  let loadMs = 0;
  try {
    launch();
    await waitUntilAnswers('after start');
    startMs = Date.now() - startedAt;
    const loadAt = Date.now();
    await copyImages(connectDocker(options.sourceHost).docker, docker, options.images, fail);
    loadMs = Date.now() - loadAt;
  } catch (err) {
    const cleanup = await stop().then(
      () => '',
      (stopErr: unknown) => `\n(and cleaning up after it failed too: ${String(stopErr)})`,
    );
    if (cleanup && err instanceof Error) err.message += cleanup;
    throw err;
  }

  return {
    host,
    dir,
    docker,
    startMs,
    loadMs,
    logTail,
    stop,
    async restart() {
      if (stopped) throw new Error(`private engine (${dir}) was stopped; it cannot restart`);
      const at = Date.now();
      if (!(await terminate(timeoutMs))) throw fail(`dockerd (pid ${child?.pid}) did not stop within ${timeoutMs / 1000} s of SIGTERM`);
      const downMs = Date.now() - at;
      launch();
      await waitUntilAnswers('after the restart');
      return { downMs, upMs: Date.now() - at - downMs };
    },
  };
}

/** docker save IMAGE | docker load, from one engine to the other, then checks it is there. */
async function copyImages(from: Docker, to: Docker, images: string[], fail: (what: string) => Error): Promise<void> {
  for (const image of images) {
    try {
      await from.getImage(image).inspect();
    } catch (err) {
      throw new Error(`the private engine needs the image ${image} from the machine's engine, which does not have it (build it offline with \`npm run images\`): ${String(err)}`);
    }
    const saved = await from.getImage(image).get();
    const loading = (await to.loadImage(saved, { quiet: true })) as NodeJS.ReadableStream;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      loading.on('data', (chunk: Buffer) => void (output += chunk.toString('utf8')));
      loading.on('end', resolve);
      loading.on('error', reject);
      saved.on('error', reject);
    });
    const errors = output
      .split('\n')
      .filter(Boolean)
      .flatMap((line) => {
        try {
          const message = JSON.parse(line) as { error?: string; errorDetail?: { message?: string } };
          return message.error ? [message.errorDetail?.message ?? message.error] : [];
        } catch {
          return [];
        }
      });
    if (errors.length) throw fail(`loading ${image} failed: ${errors.join('; ')}`);
    try {
      await to.getImage(image).inspect();
    } catch (err) {
      throw fail(`${image} is not there after docker load (${output.trim()}): ${String(err)}`);
    }
  }
}
