// Helpers shared by the engine's tests (real engine, real containers). Not shipped.
import Docker from 'dockerode';
import { DEFAULT_IMAGES } from '../../../../shared/defaults';
import { listManaged } from '../pool/containers';
import { connectDocker } from '../engine-client/docker-client';

export const docker: Docker = connectDocker().docker;

/** Fails with instructions when the engine or the base images are missing. */
export async function requireEngineAndImages(): Promise<void> {
  try {
    await docker.ping();
  } catch (err) {
    throw new Error(`These tests need a running Docker engine (start one: dockerd &, or run .ci/run): ${String(err)}`);
  }
  for (const image of Object.values(DEFAULT_IMAGES)) {
    try {
      await docker.getImage(image).inspect();
    } catch {
      throw new Error(`These tests need the image ${image}: build it offline with \`npm run images\``);
    }
  }
}

export const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');

/** Managed containers created by this test process (by owner instance of an executor). */
export async function containersOf(instance: string): Promise<string[]> {
  return (await listManaged(docker)).filter((c) => c.ownerInstance === instance).map((c) => c.id);
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Whether this engine has gVisor's runsc registered: machine state, which .ci/run may change. */
export async function engineHasGvisor(): Promise<boolean> {
  const info = (await docker.info()) as { Runtimes?: Record<string, unknown> };
  return 'runsc' in (info.Runtimes ?? {});
}
