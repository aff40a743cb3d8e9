// How a container reference is read (the one resolver of the CLI, the app and the pool), and
// removal that waits for the engine and says when it gave up.
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_IMAGES } from '../../../../shared/defaults';
import { MIN_ID_PREFIX, removeAndWait, RemovalTimeoutError, resolveRef } from './containers';
import { docker, requireEngineAndImages } from '../testing/test-support';

const a = { id: 'abcdef0123456789aaaa', name: 'loom-alpha' };
const b = { id: 'abcdef0123456789bbbb', name: 'loom-beta' };
const c = { id: '0123456789abcdef0000', name: 'abcdef0123456789' };
const all = [a, b, c];

describe('resolveRef', () => {
  it('takes an exact id or name', () => {
    expect(resolveRef(a.id, all).found).toBe(a);
    expect(resolveRef('loom-beta', all).found).toBe(b);
    // A name that is also the start of other ids names its own container.
    expect(resolveRef('abcdef0123456789', all).found).toBe(c);
  });

  it(`takes a prefix of one id of at least ${MIN_ID_PREFIX} characters`, () => {
    expect(resolveRef('0123456789ab', all).found).toBe(c);
    expect(resolveRef('abcdef01234567', all).problem).toBe("'abcdef01234567' starts the ids of 2 containers (abcdef0123456789aa, abcdef0123456789bb): give more of the id");
    expect(resolveRef('abcdef0123456789a', all).found).toBe(a);
  });

  it('refuses a short prefix, even of one id, an unknown reference and an empty one', () => {
    expect(resolveRef('0', all).problem).toBe(`no container has the id or name '0' (an id prefix needs at least ${MIN_ID_PREFIX} characters)`);
    expect(resolveRef('0123456789a', all).found).toBeUndefined();
    expect(resolveRef('ffffffffffffff', all, 'managed container').problem).toBe("no managed container has the id or name 'ffffffffffffff', or an id that starts with it");
    expect(resolveRef('', all).problem).toMatch(/must not be empty/);
  });
});

describe('removeAndWait', () => {
  beforeAll(async () => {
    await requireEngineAndImages();
  });

  const made: string[] = [];
  afterAll(async () => {
    for (const id of made) await docker.getContainer(id).remove({ force: true }).catch(() => undefined);
  });

  it('returns once the engine no longer has the container', async () => {
    const container = await docker.createContainer({ Image: DEFAULT_IMAGES.python, Cmd: ['sleep', '60'], HostConfig: { NetworkMode: 'none' } });
    made.push(container.id);
    await container.start();
    await removeAndWait(docker, container.id);
    await expect(container.inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('says so when the engine does not finish a removal in time', async () => {
    // Injected faults: an engine that accepts the removal and never carries it out, and one
    // that never answers the removal at all (dockerd wedged on a container paused mid-exec).
    const engines = [
      { getContainer: () => ({ remove: async () => undefined, inspect: async () => ({}) }) },
      { getContainer: () => ({ remove: () => new Promise(() => undefined) }) },
    ] as unknown as Docker[];
    for (const wedged of engines) {
      const t0 = Date.now();
      const err = await removeAndWait(wedged, 'f'.repeat(64), 500).catch((e: unknown) => e);
      expect(Date.now() - t0).toBeLessThan(2_000);
      expect(err).toBeInstanceOf(RemovalTimeoutError);
      expect(err).toMatchObject({ name: 'RemovalTimeoutError', timeoutMs: 500, message: expect.stringMatching(/did not finish removing container ffffffffffff within 0.5 s/) });
    }
  });
});
