// What the clean slate between runs costs: the same warm runner in two containers made the same
// way, one that cleans after every run (every pooled container) and one started with
// --keep-state (a session's, which is never cleaned), measured interleaved in one run.
// Two programs: a hello, which leaves nothing, and one that leaves 1,000 files in /tmp (which
// the keep-state container keeps, and the program overwrites: the same work in both).
import type Docker from 'dockerode';
import { randomBytes } from 'node:crypto';
import { DEFAULT_IMAGES } from '../shared/defaults';
import { createOptions } from '../electron/main/engine/container/container';
import { currentOwner } from '../electron/main/engine/pool/labels';
import type { ContainerSpec } from '../electron/main/engine/request/request';
import { initPath, ResourcesVolume } from '../electron/main/engine/container/resources';
import { RunnerClient, runnerCommand } from '../electron/main/engine/runner/client';
import { summarize, type Summary } from './stats';

export interface CleanSlateFigures {
  hello: Summary;
  helloKeepState: Summary;
  files1000: Summary;
  files1000KeepState: Summary;
  /** Runs whose output was not what the program prints. */
  wrong: number;
}

const HELLO: readonly string[] = ['python3', '-c', "print('hello')"];
const FILES_1000: readonly string[] = ['python3', '-c', "import os\nfor i in range(1000): os.close(os.open('/tmp/f%d' % i, os.O_CREAT | os.O_WRONLY | os.O_TRUNC))\nprint('hello')"];

const BLOCK = 10;

const SPEC: ContainerSpec = {
  name: 'bench-clean-slate',
  image: DEFAULT_IMAGES.python,
  runtime: 'python',
  packages: [],
  cpuCores: 1,
  memoryMb: 512,
  storageMb: 1024,
  pidsLimit: 100,
  network: 'none',
  env: {},
  mounts: [],
  isolation: 'runc',
};

/** A container made as the engine makes them, its runner the main process (attached before it starts). */
async function runnerContainer(docker: Docker, keepState: boolean, instance: string): Promise<{ container: Docker.Container; client: RunnerClient }> {
  const image = await docker.getImage(SPEC.image).inspect();
  const volume = await new ResourcesVolume().ensure(docker, SPEC.image);
  const container = await docker.createContainer(
    createOptions({
      spec: SPEC,
      poolKey: randomBytes(8).toString('hex'),
      owner: currentOwner(instance),
      resourcesVolume: volume,
      imageEnv: image.Config.Env ?? [],
      runner: runnerCommand('python', { keepState }),
      init: initPath(image.Architecture),
    }),
  );
  const client = await RunnerClient.attach(container, () => container.start());
  if (!client) throw new Error('the runner of the clean-slate bench did not start');
  return { container, client };
}

/**
 * `n` runs (rounded up to blocks of 10) of each program on each container, after a warm-up that
 * lets the runners finish their pre-imports. `instance` labels the containers for the bench's sweep.
 */
export async function measureCleanSlate(docker: Docker, n: number, instance: string): Promise<CleanSlateFigures> {
  const made = [await runnerContainer(docker, false, instance), await runnerContainer(docker, true, instance)];
  const [clean, kept] = made as [(typeof made)[number], (typeof made)[number]];
  try {
    const samples = { hello: [] as number[], helloKeepState: [] as number[], files1000: [] as number[], files1000KeepState: [] as number[] };
    let wrong = 0;
    const timed = async (client: RunnerClient, argv: readonly string[], into: number[] | null): Promise<void> => {
      const t = performance.now();
      const r = await client.run({ argv: [...argv], env: client.baseEnv, cwd: '/tmp', stdin: new Uint8Array(), timeoutMs: 30_000, maxOutputBytes: 1 << 20 });
      if (r.exitCode !== 0 || r.stdout.toString('utf8') !== 'hello\n') wrong++;
      into?.push(performance.now() - t);
    };
    for (let i = 0; i < 20; i++) for (const c of [clean, kept]) await timed(c.client, HELLO, null);
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Back to back in blocks, alternating between the containers: a run right after another on
    // the same container waits for its clean-up (the clean-up is after EXIT, so a run that comes
    // later would not), and the alternation spreads the machine's drift over both.
    for (const [argv, cleaned, keptSamples] of [
      [HELLO, samples.hello, samples.helloKeepState],
      [FILES_1000, samples.files1000, samples.files1000KeepState],
    ] as const) {
      for (let done = 0; done < n; done += BLOCK) {
        for (let i = 0; i < BLOCK; i++) await timed(clean.client, argv, cleaned);
        for (let i = 0; i < BLOCK; i++) await timed(kept.client, argv, keptSamples);
      }
    }
    return {
      hello: summarize(samples.hello),
      helloKeepState: summarize(samples.helloKeepState),
      files1000: summarize(samples.files1000),
      files1000KeepState: summarize(samples.files1000KeepState),
      wrong,
    };
  } finally {
    for (const { container, client } of made) {
      client.close();
      await container.remove({ force: true }).catch(() => undefined);
    }
  }
}
