// The command line end to end, as an agent harness that shells out once per step sees it: a new
// `loom exec` process that finds a warm parked container, against the docker CLI doing the same
// (`docker exec` into a running container, `docker run --rm` of a new one), and the start-up of
// `loom --help` against `node -e 0`. Wall time from spawn to exit, medians; the loom and docker
// runs alternate, so that the machine's drift hits both alike.
import { spawn } from 'node:child_process';
import { median } from './stats';
import { medianProcessMs } from './machine';

export interface CliFigures {
  /** `loom exec -- python3 -c 'print(1)'`, a new process each, working alone, a warm parked container (ms). */
  cliWarmWallMs: number;
  /** The same, handed to a Loom host process that runs for the user (electron/main/api/handoff-host.ts) (ms). */
  cliHandoffWallMs: number;
  /** The same through bin/loom, whose native client (bin/loom-exec.c) hands the command line to that host (ms). */
  cliNativeHandoffWallMs: number;
  /** `docker exec CONTAINER python3 -c 'print(1)'` into a running container (ms). */
  dockerExecCliMs: number;
  /** `docker run --rm IMAGE python3 -c 'print(1)'` (ms). */
  dockerRunCliMs: number;
  /** `loom --help` (ms). */
  loomHelpMs: number;
  /** `node -e 0` (ms). */
  nodeE0Ms: number;
  /**
   * `node -e 0` without NODE_EXTRA_CA_CERTS, where the environment sets it (else NaN): Node loads
   * it as it starts, and bin/loom starts `loom exec` without it (ms).
   */
  nodeE0WithoutExtraCaMs: number;
  /** `loom exec` runs that did not print 1 and exit 0. */
  wrong: number;
}

export interface CliFigureSetup {
  /** The repository root (bin/loom.js). */
  root: string;
  /** A running container with python3, for `docker exec`. */
  execContainer: string;
  image: string;
  /** A label key=value put on the `docker run` containers (for the bench's sweep). */
  label: string;
  /** A config name unique to this run: `loom exec --name`, so its parked container is ours alone. */
  configName: string;
  n: number;
  /** A LOOM_HOME whose hand-off socket a host serves (the bench's own): for cliHandoffWallMs. */
  handoffHome: string;
}

const PRINT_1 = ['python3', '-c', 'print(1)'];

/** Spawn to exit (ms), with what it printed. */
function run(file: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<{ ms: number; code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(file, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ ms: performance.now() - t0, code, stdout, stderr }));
  });
}

export async function measureCliFigures(s: CliFigureSetup, log: (line: string) => void): Promise<CliFigures> {
  const node = process.execPath;
  const loomExec = ['bin/loom.js', 'exec', '--keep-warm', '120', '--name', s.configName, '--', ...PRINT_1];
  const alone = { ...process.env, LOOM_NO_HANDOFF: '1' };
  const handedOff = { ...process.env, LOOM_NO_HANDOFF: '', LOOM_HOME: s.handoffHome };
  // The first creates the container and parks it; every later one claims it.
  const first = await run(node, loomExec, s.root, alone);
  if (first.code !== 0) log(`cli: the first loom exec failed (exit ${first.code}): ${first.stderr.slice(0, 300)}`);
  const loom: number[] = [];
  const handoff: number[] = [];
  const nativeHandoff: number[] = [];
  const dockerExec: number[] = [];
  const dockerRun: number[] = [];
  let wrong = 0;
  const loomOnce = async (i: number, env: NodeJS.ProcessEnv, into: number[], native = false): Promise<void> => {
    const l = native ? await run(`${s.root}/bin/loom`, loomExec.slice(1), s.root, env) : await run(node, loomExec, s.root, env);
    if (l.code !== 0 || l.stdout !== '1\n') {
      wrong++;
      log(`cli: loom exec #${i}: exit ${l.code}, stdout ${JSON.stringify(l.stdout.slice(0, 100))}, stderr ${JSON.stringify(l.stderr.slice(0, 300))}`);
    }
    into.push(l.ms);
  };
  for (let i = 0; i < s.n; i++) {
    await loomOnce(i, alone, loom, true);
    await loomOnce(i, handedOff, handoff);
    await loomOnce(i, handedOff, nativeHandoff, true);
    const d = await run('docker', ['exec', s.execContainer, ...PRINT_1], s.root);
    if (d.code === 0) dockerExec.push(d.ms);
    // docker run is slow (a new container): a third as many.
    if (i % 3 === 0) {
      const r = await run('docker', ['run', '--rm', '--network', 'none', '--label', s.label, s.image, ...PRINT_1], s.root);
      if (r.code === 0) dockerRun.push(r.ms);
    }
  }
  const nodeE0Ms = await medianProcessMs(s.n, node, ['-e', '0']);
  const { NODE_EXTRA_CA_CERTS: extraCa, ...withoutExtraCa } = process.env;
  const nodeE0WithoutExtraCaMs = extraCa ? await medianProcessMs(s.n, node, ['-e', '0'], s.root, withoutExtraCa) : Number.NaN;
  const loomHelpMs = await medianProcessMs(s.n, node, ['bin/loom.js', '--help'], s.root);
  return { cliWarmWallMs: median(loom), cliHandoffWallMs: median(handoff), cliNativeHandoffWallMs: median(nativeHandoff), dockerExecCliMs: median(dockerExec), dockerRunCliMs: median(dockerRun), loomHelpMs, nodeE0Ms, nodeE0WithoutExtraCaMs, wrong };
}
