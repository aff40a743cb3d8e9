// The package cache's key: local archives by content, hashed without stalling the event loop.
import { create } from '@bufbuild/protobuf';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExecuteRequestSchema, RuntimeType } from '../../../../shared/gen/loom/v1/docker_pb';
import { FileDigests } from './file-digest';
import { cacheKey } from './package-cache';
import { normalizeRequest, type ContainerSpec } from '../request/request';

let dir = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'loom-cache-key-'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function specWith(file: string): ContainerSpec {
  const request = create(ExecuteRequestSchema, { runtimeType: RuntimeType.NODE, command: ['true'], config: { packages: [file, 'left-pad@1.3.0'] } });
  return normalizeRequest(request, { allowHostMounts: false, localPackages: 'anywhere' }).container;
}

describe('cacheKey', () => {
  it('keys a local archive by its content, reading it again only once it changed', async () => {
    const file = join(dir, 'lib-1.0.0.tgz');
    writeFileSync(file, 'first build');
    const digests = new FileDigests();
    const first = await cacheKey('sha256:base', specWith(file), {}, digests);
    expect(await cacheKey('sha256:base', specWith(file), {}, digests)).toBe(first);
    expect(digests.reads).toBe(1);
    writeFileSync(file, 'second build, longer');
    const second = await cacheKey('sha256:base', specWith(file), {}, digests);
    expect(second).not.toBe(first);
    expect(digests.reads).toBe(2);
    expect(await cacheKey('sha256:other-base', specWith(file), {}, digests)).not.toBe(second);
  });

  it('hashes a large archive in chunks: the event loop keeps turning meanwhile', async () => {
    const file = join(dir, 'big-1.0.0.tgz');
    writeFileSync(file, '');
    truncateSync(file, 64 * 1024 * 1024);
    let turns = 0;
    let done = false;
    const tick = (): void => {
      turns++;
      if (!done) setImmediate(tick);
    };
    setImmediate(tick);
    // A synchronous read of the whole file would finish before the loop turned even once.
    await cacheKey('sha256:base', specWith(file), {}, new FileDigests());
    done = true;
    expect(turns).toBeGreaterThan(8);
  });
});
