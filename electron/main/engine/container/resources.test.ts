// The resources volume against the real engine: it is used only once complete (its marker
// written last), an unmarked one is repaired, a failed fill leaves nothing behind, concurrent
// fillers end with one complete volume, and modes, root ownership and long names survive.
import type Docker from 'dockerode';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pack } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_IMAGES } from '../../../../shared/defaults';
import { createExecutor } from '../executor';
import { LABEL } from '../pool/labels';
import { COMPLETE_MARKER, RESOURCES_DIR, ResourcesVolume, shippedFiles } from './resources';
import { docker, requireEngineAndImages, text } from '../testing/test-support';

const IMAGE = DEFAULT_IMAGES.python;
const roots: string[] = [];
const volumes = new Set<string>();

/** A resources folder of its own (so a volume of its own): a few files, some with long names. */
function resourcesRoot(extra: Record<string, string> = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'loom-volume-test-'));
  roots.push(root);
  const files: Record<string, string> = {
    [`agent/unique-${randomBytes(6).toString('hex')}.py`]: 'print("this root")\n',
    'trace/python/loom_trace.py': 'x = 1\n'.repeat(2000),
    // One name over 100 bytes with slashes (a ustar prefix), one without (a PAX header).
    [`trace/node/${'d'.repeat(60)}/${'e'.repeat(60)}/deep.js`]: 'module.exports = 1;\n',
    [`agent/${'f'.repeat(150)}.py`]: 'long = True\n',
    'native/bin/loom-init-x86_64': '\x7fELF not really\n',
    'native/bin/nodump-x86_64.so': '\x7fELF nor this\n',
    ...extra,
  };
  for (const [path, body] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), body);
  }
  return root;
}

function volumeOf(root: string): ResourcesVolume {
  const volume = new ResourcesVolume(root);
  volumes.add(volume.name);
  return volume;
}

/** What the engine holds in the volume: "mode uid:gid size path" of every file, as a container sees it. */
async function listing(volume: string): Promise<string[]> {
  const container = await docker.createContainer({
    Image: IMAGE,
    Cmd: ['find', '/v', '-type', 'f', '-printf', '%m %U:%G %s %P\\n'],
    Tty: true,
    NetworkDisabled: true,
    HostConfig: { Mounts: [{ Type: 'volume', Source: volume, Target: '/v', ReadOnly: true }], NetworkMode: 'none' },
  });
  try {
    await container.start();
    await container.wait();
    const out = await container.logs({ stdout: true, stderr: true });
    return out.toString('utf8').split(/\r?\n/).filter(Boolean).sort();
  } finally {
    await container.remove({ force: true });
  }
}

/** What a complete volume of `root` lists. */
function expected(root: string, volume: ResourcesVolume): string[] {
  const files = shippedFiles(root).map((f) => `${f.mode.toString(8)} 0:0 ${f.body.length} ${f.path}`);
  return [...files, `644 0:0 ${volume.name.length + 1} ${COMPLETE_MARKER}`].sort();
}

async function volumeExists(name: string): Promise<boolean> {
  return docker
    .getVolume(name)
    .inspect()
    .then(
      () => true,
      (err: { statusCode?: number }) => {
        if (err.statusCode === 404) return false;
        throw err;
      },
    );
}

async function containerExists(name: string): Promise<boolean> {
  return docker
    .getContainer(name)
    .inspect()
    .then(
      () => true,
      () => false,
    );
}

/** A volume as a fill that died half-way leaves it: some of the files, one of them cut short, no marker. */
async function halfFilled(volume: ResourcesVolume, root: string): Promise<void> {
  await docker.createVolume({ Name: volume.name, Labels: { [LABEL.managed]: 'true' } });
  const [first, second] = shippedFiles(root);
  const archive = pack();
  archive.entry({ name: first!.path, mode: first!.mode }, first!.body.subarray(0, 3));
  archive.entry({ name: second!.path, mode: second!.mode }, second!.body);
  archive.finalize();
  const filler = await docker.createContainer({ Image: IMAGE, Entrypoint: ['true'], HostConfig: { Mounts: [{ Type: 'volume', Source: volume.name, Target: RESOURCES_DIR }] } });
  try {
    await filler.putArchive(archive, { path: RESOURCES_DIR });
  } finally {
    await filler.remove({ force: true });
  }
  expect(await listing(volume.name)).toHaveLength(2);
}

beforeAll(async () => {
  await requireEngineAndImages();
});

afterAll(async () => {
  for (const name of volumes) {
    await docker.getContainer(`${name}-fill`).remove({ force: true }).catch(() => undefined);
    await docker.getVolume(name).remove().catch(() => undefined);
  }
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

describe('ResourcesVolume', () => {
  it('fills a new volume with every file, its mode, root as owner and names over 100 bytes, the marker last', async () => {
    const root = resourcesRoot();
    const volume = volumeOf(root);
    expect(await volume.ensure(docker, IMAGE)).toBe(volume.name);
    const listed = await listing(volume.name);
    expect(listed).toEqual(expected(root, volume));
    // The helpers the sandbox user may run but not read, the rest readable.
    expect(listed).toContain('711 0:0 16 native/bin/loom-init-x86_64');
    expect(listed.some((l) => l.endsWith(`${'f'.repeat(150)}.py`))).toBe(true);
    expect(await containerExists(volume.lockName)).toBe(false);
  });

  it('repairs a volume whose fill died half-way (no marker) before anything uses it', async () => {
    const root = resourcesRoot();
    const volume = volumeOf(root);
    await halfFilled(volume, root);
    await volume.ensure(docker, IMAGE);
    expect(await listing(volume.name)).toEqual(expected(root, volume));
  });

  it('gives a sandbox made after an unmarked volume appeared the full files', async () => {
    // The real shipped files (the runner must start) and one of this test's own: a volume name of its own.
    const root = resourcesRoot();
    for (const f of shippedFiles()) {
      mkdirSync(dirname(join(root, f.path)), { recursive: true });
      writeFileSync(join(root, f.path), f.body);
      chmodSync(join(root, f.path), f.mode);
    }
    const volume = volumeOf(root);
    await halfFilled(volume, root);
    const executor = await createExecutor({ resourcesRoot: root, reapOrphans: false, minIdlePerConfig: 0 });
    try {
      const r = await executor.execute({
        command: ['python3', '-c', `import os\nfor d, _, fs in os.walk("${RESOURCES_DIR}"):\n  for f in fs: p = os.path.join(d, f); print(os.stat(p).st_size, os.path.relpath(p, "${RESOURCES_DIR}"))`],
      });
      expect(text(r.stderr)).toBe('');
      const seen = text(r.stdout).split('\n').filter(Boolean).sort();
      const want = [...shippedFiles(root).map((f) => `${f.body.length} ${f.path}`), `${volume.name.length + 1} ${COMPLETE_MARKER}`].sort();
      expect(seen).toEqual(want);
    } finally {
      await executor.close();
    }
  });

  it('removes the volume when a fill fails, and fills it anew next time', async () => {
    const root = resourcesRoot();
    const volume = volumeOf(root);
    // An injected fault: the engine refuses the marker's copy, after the files went in.
    const faulty = new Proxy(docker, {
      get(target, prop, receiver) {
        if (prop !== 'createContainer') return Reflect.get(target, prop, receiver) as unknown;
        return async (opts: Docker.ContainerCreateOptions) => {
          const container = await target.createContainer(opts);
          let copies = 0;
          const put = container.putArchive.bind(container);
          return Object.assign(container, {
            putArchive: (file: NodeJS.ReadableStream, o: object) => (++copies === 2 ? Promise.reject(new Error('injected: no space left on device')) : put(file, o)),
          });
        };
      },
    });
    await expect(volume.ensure(faulty, IMAGE)).rejects.toThrow(/Could not fill .*injected: no space left/);
    expect(await volumeExists(volume.name)).toBe(false);
    expect(await containerExists(volume.lockName)).toBe(false);

    await volume.ensure(docker, IMAGE);
    expect(await listing(volume.name)).toEqual(expected(root, volume));
  });

  it('ends with one complete volume when two processes fill it at once', async () => {
    const root = resourcesRoot();
    const [a, b] = [volumeOf(root), volumeOf(root)];
    expect(a.name).toBe(b.name);
    expect(await Promise.all([a.ensure(docker, IMAGE), b.ensure(docker, IMAGE)])).toEqual([a.name, a.name]);
    expect(await listing(a.name)).toEqual(expected(root, a));
    expect(await containerExists(a.lockName)).toBe(false);
  });

  it('takes over the fill lock of a process that died holding it', async () => {
    const root = resourcesRoot();
    const volume = volumeOf(root);
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    await docker.createVolume({ Name: volume.name, Labels: { [LABEL.managed]: 'true' } });
    await docker.createContainer({
      name: volume.lockName,
      Image: IMAGE,
      Entrypoint: ['true'],
      Labels: { [LABEL.ownerPid]: String(dead), [LABEL.ownerHost]: hostname() },
      HostConfig: { Mounts: [{ Type: 'volume', Source: volume.name, Target: RESOURCES_DIR }] },
    });
    const t0 = Date.now();
    await volume.ensure(docker, IMAGE);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(await listing(volume.name)).toEqual(expected(root, volume));
  });

  it('fills again a complete volume that was removed (a prune) after this process saw it', async () => {
    const root = resourcesRoot();
    const volume = volumeOf(root);
    await volume.ensure(docker, IMAGE);
    await docker.getVolume(volume.name).remove();
    await volume.ensure(docker, IMAGE);
    expect(await listing(volume.name)).toEqual(expected(root, volume));
  });
});
