// Reaching the engine: every address form parsed, the Podman socket found where Podman puts it,
// and real round trips through a Unix socket and a TCP port that stand in front of the engine.
import Docker from 'dockerode';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { connect, createServer, type AddressInfo, type NetConnectOpts, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connectDocker, defaultSockets, dockerOptions, pingEngine, reachEngine, resolveDockerHost } from './docker-client';
import { EngineUnavailableError, ValidationError } from '../errors';
import { createExecutor } from '../executor';
import { text } from '../testing/test-support';

describe('engine address', () => {
  it('reads DOCKER_HOST in its unix, tcp, ssh and npipe forms', () => {
    expect(dockerOptions('unix:///run/user/1000/podman/podman.sock')).toEqual({ socketPath: '/run/user/1000/podman/podman.sock' });
    expect(dockerOptions('tcp://10.0.0.5:2375', {})).toMatchObject({ host: '10.0.0.5', port: '2375', protocol: 'http' });
    expect(dockerOptions('tcp://engine.internal', { DOCKER_TLS_VERIFY: '1' })).toMatchObject({ port: '2376', protocol: 'https' });
    expect(dockerOptions('ssh://deploy@build-box:2222', { SSH_AUTH_SOCK: '/tmp/agent.sock' })).toMatchObject({
      protocol: 'ssh',
      host: 'build-box',
      port: '2222',
      username: 'deploy',
      sshAuthAgent: '/tmp/agent.sock',
    });
    expect(dockerOptions('npipe:////./pipe/docker_engine')).toEqual({ socketPath: '\\\\.\\pipe\\docker_engine' });
  });

  it('refuses addresses it cannot use, naming docker_host', () => {
    expect(() => dockerOptions('ftp://x')).toThrow(ValidationError);
    expect(() => dockerOptions('not an address')).toThrow(/docker_host/);
  });

  it('prefers an explicit address, then DOCKER_HOST, then a socket that exists', () => {
    expect(resolveDockerHost('tcp://a:1', { DOCKER_HOST: 'tcp://b:2' })).toBe('tcp://a:1');
    expect(resolveDockerHost(undefined, { DOCKER_HOST: 'tcp://b:2' })).toBe('tcp://b:2');
    expect(resolveDockerHost(undefined, {})).toMatch(/^unix:\/\/\//);
  });
});

describe('engine connection', () => {
  it('answers with the engine version on a real engine', async () => {
    const { docker, address } = connectDocker();
    const info = await pingEngine(docker, address);
    expect(info.version).toMatch(/^\d+\.\d+/);
    expect(Number(info.apiVersion)).toBeGreaterThanOrEqual(1.4);
  });

  it('talks over a socket file through a keep-alive agent that names no TLS server (no slow check of the host name)', async () => {
    const { docker } = connectDocker(resolveDockerHost(undefined, {}));
    const agent = (docker.modem as { agent?: Agent }).agent;
    expect(agent).toBeInstanceOf(Agent);
    const servernames: unknown[] = [];
    const internals = agent as unknown as { createConnection: (options: { servername?: string }, ...rest: unknown[]) => unknown };
    const create = internals.createConnection.bind(agent);
    internals.createConnection = (options, ...rest) => {
      servernames.push(options.servername);
      return create(options, ...rest);
    };
    expect(String(await docker.ping())).toBe('OK');
    expect(await docker.listContainers({ limit: 1 })).toBeInstanceOf(Array);
    // The second request reused the first one's connection.
    expect(servernames).toEqual(['']);
    agent?.destroy();
  });

  it('reaches a real engine without asking its version (what a scheduler waits for)', async () => {
    const { docker, address } = connectDocker();
    expect(await reachEngine(docker, address)).toEqual({ address });
  });

  it.each([
    ['pingEngine', 'tcp://127.0.0.1:1'],
    ['pingEngine', 'unix:///nonexistent/docker.sock'],
    ['reachEngine', 'tcp://127.0.0.1:1'],
    ['reachEngine', 'unix:///nonexistent/docker.sock'],
  ] as const)('%s says how to start an engine when none answers at %s', async (check, address) => {
    const err = await (check === 'pingEngine' ? pingEngine : reachEngine)(new Docker(dockerOptions(address)), address, 5000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineUnavailableError);
    const message = (err as Error).message;
    expect(message).toContain(address);
    expect(message).toMatch(/ECONNREFUSED|ENOENT/);
    expect(message).toMatch(/systemctl start docker/);
    expect(message).toMatch(/podman\.sock/);
  });
});

/** A relay in front of the engine this machine uses, counting the connections it carries. */
interface EngineRelay {
  server: Server;
  connections: number;
  close(): Promise<void>;
}

/** Where the engine really is, as net.connect options (a Unix socket or a plain TCP port). */
function engineTarget(): NetConnectOpts {
  const options = dockerOptions(resolveDockerHost());
  if (options.socketPath) return { path: options.socketPath };
  if (options.protocol === 'http' && options.host) return { host: options.host, port: Number(options.port) };
  throw new Error(`these tests relay to the engine, which needs it on a Unix socket or plain TCP, not ${resolveDockerHost()}`);
}

/** Listens on `where` (a socket path, or a port on 127.0.0.1) and pipes each connection to the engine. */
async function relay(where: { path: string } | { port: number }): Promise<EngineRelay> {
  const target = engineTarget();
  const sockets = new Set<Socket>();
  const r: EngineRelay = {
    server: createServer((client) => {
      r.connections++;
      const upstream = connect(target);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.once('close', () => sockets.delete(s));
        s.on('error', () => (s === client ? upstream : client).destroy());
      }
      // Both ways, including the hijacked streams of attach and exec.
      client.pipe(upstream).pipe(client);
    }),
    connections: 0,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        r.server.close(() => resolve());
      }),
  };
  await new Promise<void>((resolve, reject) => {
    r.server.once('error', reject);
    if ('path' in where) r.server.listen(where.path, resolve);
    else r.server.listen(where.port, '127.0.0.1', resolve);
  });
  return r;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('Podman socket discovery', () => {
  it('tries Docker, then rootless Podman under XDG_RUNTIME_DIR, then rootful Podman, then Docker Desktop', () => {
    expect(defaultSockets({ XDG_RUNTIME_DIR: '/run/user/1000', HOME: '/home/ann' })).toEqual([
      '/var/run/docker.sock',
      '/run/user/1000/podman/podman.sock',
      '/run/podman/podman.sock',
      '/home/ann/.docker/run/docker.sock',
    ]);
    expect(defaultSockets({})).toEqual(['/var/run/docker.sock', '/run/podman/podman.sock']);
  });

  it("finds rootless Podman's socket on a machine without Docker's, and talks to the engine through it", async () => {
    const runtimeDir = mkdtempSync(join(tmpdir(), 'loom-xdg-'));
    cleanups.push(() => rmSync(runtimeDir, { recursive: true, force: true }));
    mkdirSync(join(runtimeDir, 'podman'));
    const socketPath = join(runtimeDir, 'podman', 'podman.sock');
    const env = { XDG_RUNTIME_DIR: runtimeDir };
    // Only Docker's socket is hidden: every other candidate is looked up on the real file system.
    const withoutDocker = (p: string): boolean => p !== '/var/run/docker.sock' && existsSync(p);
    expect(resolveDockerHost(undefined, env, withoutDocker)).not.toBe(`unix://${socketPath}`);

    // Podman's API is Docker's: a socket that relays to this machine's engine stands in for it.
    const podman = await relay({ path: socketPath });
    cleanups.push(() => podman.close());
    const address = resolveDockerHost(undefined, env, withoutDocker);
    expect(address).toBe(`unix://${socketPath}`);
    // DOCKER_HOST still wins over any socket found.
    expect(resolveDockerHost(undefined, { ...env, DOCKER_HOST: 'tcp://10.0.0.5:2375' }, withoutDocker)).toBe('tcp://10.0.0.5:2375');

    const info = await pingEngine(new Docker(dockerOptions(address)), address);
    expect(info.address).toBe(address);
    expect(info.version).toMatch(/^\d+\.\d+/);
    expect(podman.connections).toBeGreaterThan(0);
  });
});

describe('engine over TCP', () => {
  it('pings and runs a container through DOCKER_HOST=tcp://127.0.0.1:PORT', async () => {
    const tcp = await relay({ port: 0 });
    cleanups.push(() => tcp.close());
    const address = `tcp://127.0.0.1:${(tcp.server.address() as AddressInfo).port}`;
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = address;
    cleanups.push(() => {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    });

    const { docker, address: used } = connectDocker();
    expect(used).toBe(address);
    expect((await pingEngine(docker, used)).version).toMatch(/^\d+\.\d+/);

    // The whole engine path (create, start, the runner's attach, exec, remove) over the relay.
    const executor = await createExecutor({ minIdlePerConfig: 0, reapOrphans: false });
    let id = '';
    try {
      expect(executor.scheduler.engine.address).toBe(address);
      const before = tcp.connections;
      // A config name of its own: a container another Loom process parked for the default
      // config would otherwise be claimed instead of created.
      const r = await executor.execute({
        command: ['python3', '-c', 'import sys; print("over tcp"); sys.exit(4)'],
        config: { name: `tcp-${randomBytes(4).toString('hex')}` },
      });
      expect(text(r.stdout)).toBe('over tcp\n');
      expect(r.exitCode).toBe(4);
      expect(r.containerCreated).toBe(true);
      id = r.containerId;
      expect(tcp.connections).toBeGreaterThan(before);
      expect((await docker.getContainer(id).inspect()).State.Running).toBe(true);
    } finally {
      await executor.close();
    }
    const gone = await docker
      .getContainer(id)
      .inspect()
      .then(() => false)
      .catch((err: { statusCode?: number }) => err.statusCode === 404);
    expect(gone).toBe(true);
  });
});
