import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { connectDocker, dockerOptions, pingEngine, resolveDockerHost } from './docker-client';
import { EngineUnavailableError, ValidationError } from './errors';

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

  it('says how to start an engine when none answers', async () => {
    for (const address of ['tcp://127.0.0.1:1', 'unix:///nonexistent/docker.sock']) {
      const err = await pingEngine(new Docker(dockerOptions(address)), address, 5000).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EngineUnavailableError);
      const message = (err as Error).message;
      expect(message).toContain(address);
      expect(message).toMatch(/ECONNREFUSED|ENOENT/);
      expect(message).toMatch(/systemctl start docker/);
      expect(message).toMatch(/podman\.sock/);
    }
  });
});
