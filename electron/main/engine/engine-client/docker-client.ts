// Connecting to the engine: DOCKER_HOST (unix, tcp, ssh, npipe) or the usual local sockets,
// including Podman's Docker-compatible one, with a clear error when nothing answers.
import Docker from 'dockerode';
import { existsSync, readFileSync } from 'node:fs';
import { Agent, type ClientRequest } from 'node:http';
import { join } from 'node:path';
import { EngineUnavailableError, ValidationError } from '../errors';
import { NO_ANSWER, within } from '../deadline';

/** Where an engine is, in DOCKER_HOST syntax. */
export interface EngineAddress {
  address: string;
}

export interface EngineInfo extends EngineAddress {
  version: string;
  apiVersion: string;
  os: string;
}

/** The socket candidates tried in order when DOCKER_HOST is not set. */
export function defaultSockets(env: NodeJS.ProcessEnv = process.env): string[] {
  const candidates = ['/var/run/docker.sock'];
  if (env.XDG_RUNTIME_DIR) candidates.push(join(env.XDG_RUNTIME_DIR, 'podman', 'podman.sock'));
  candidates.push('/run/podman/podman.sock');
  if (env.HOME) candidates.push(join(env.HOME, '.docker', 'run', 'docker.sock'));
  return candidates;
}

/**
 * The engine address to use: an explicit one, else DOCKER_HOST, else the first socket that
 * exists. (`exists` is there so that a test can stand for a machine without Docker's socket.)
 */
export function resolveDockerHost(explicit?: string, env: NodeJS.ProcessEnv = process.env, exists: (path: string) => boolean = existsSync): string {
  if (explicit) return explicit;
  if (env.DOCKER_HOST) return env.DOCKER_HOST;
  if (process.platform === 'win32') return 'npipe:////./pipe/docker_engine';
  const found = defaultSockets(env).find((p) => exists(p));
  return `unix://${found ?? '/var/run/docker.sock'}`;
}

/** dockerode options for an address in DOCKER_HOST syntax. */
export function dockerOptions(address: string, env: NodeJS.ProcessEnv = process.env): Docker.DockerOptions {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new ValidationError('docker_host', `'${address}' is not an address like unix:///var/run/docker.sock, tcp://host:2375 or ssh://user@host`);
  }
  switch (url.protocol) {
    case 'unix:':
      return { socketPath: decodeURIComponent(url.pathname) };
    case 'npipe:':
      // npipe:////./pipe/docker_engine → \\.\pipe\docker_engine
      return { socketPath: `\\\\${address.slice('npipe:'.length).replace(/^\/+/, '').replace(/\//g, '\\')}` };
    case 'tcp:':
    case 'http:':
    case 'https:': {
      const tls = url.protocol === 'https:' || (env.DOCKER_TLS_VERIFY ?? '') !== '';
      const certDir = env.DOCKER_CERT_PATH;
      const options: Docker.DockerOptions = {
        host: url.hostname,
        port: url.port || (tls ? '2376' : '2375'),
        protocol: tls ? 'https' : 'http',
      };
      if (tls && certDir) {
        options.ca = readFileSync(join(certDir, 'ca.pem'));
        options.cert = readFileSync(join(certDir, 'cert.pem'));
        options.key = readFileSync(join(certDir, 'key.pem'));
      }
      return options;
    }
    case 'ssh:':
      return {
        protocol: 'ssh',
        host: url.hostname,
        port: url.port || '22',
        username: decodeURIComponent(url.username) || undefined,
        sshAuthAgent: env.SSH_AUTH_SOCK,
      };
    default:
      throw new ValidationError('docker_host', `unsupported scheme '${url.protocol}' in '${address}' (use unix, tcp, ssh or npipe)`);
  }
}

/**
 * http.globalAgent's settings, for an engine behind a socket file, with one cost less: Node
 * works out a TLS server name for every request, TLS or not, and its first check of the name
 * ('localhost', by net.isIP) runs a large regular expression: 10 ms of a `loom exec` on a 2-core
 * VM. A socket file has no TLS: the name is set, empty, before Node looks.
 */
class SocketFileAgent extends Agent {
  constructor() {
    super({ keepAlive: true, scheduling: 'lifo', timeout: 5000 });
  }
}
interface AddRequest {
  addRequest(req: ClientRequest, options: { servername?: string } | string, ...rest: unknown[]): void;
}
const addRequest = (Agent.prototype as unknown as AddRequest).addRequest;
(SocketFileAgent.prototype as unknown as AddRequest).addRequest = function (this: Agent, req, options, ...rest) {
  if (typeof options === 'object') options.servername ??= '';
  addRequest.call(this, req, options, ...rest);
};

export function connectDocker(explicit?: string): { docker: Docker; address: string } {
  const address = resolveDockerHost(explicit);
  const options = dockerOptions(address);
  // docker-modem takes an agent; dockerode's types do not list it.
  return { docker: new Docker(options.socketPath ? ({ ...options, agent: new SocketFileAgent() } as Docker.DockerOptions) : options), address };
}

/** Asks the engine for its version; an engine that does not answer becomes EngineUnavailableError. */
export async function pingEngine(docker: Docker, address: string, timeoutMs = 10_000): Promise<EngineInfo> {
  try {
    const version = await within(docker.version(), timeoutMs);
    if (version === NO_ANSWER) throw new Error(`no answer within ${timeoutMs} ms`);
    return { address, version: version.Version, apiVersion: version.ApiVersion, os: version.Os };
  } catch (cause) {
    throw new EngineUnavailableError(address, cause);
  }
}

/**
 * Checks that the engine answers, with its cheapest call: /_ping (1 ms, where /version takes
 * 20 ms on a 2-core VM: the time a `loom exec` spends waiting on it). An engine that does not
 * answer becomes EngineUnavailableError, as with pingEngine.
 */
export async function reachEngine(docker: Docker, address: string, timeoutMs = 10_000): Promise<EngineAddress> {
  try {
    const answer = await within(docker.ping(), timeoutMs);
    if (answer === NO_ANSWER) throw new Error(`no answer within ${timeoutMs} ms`);
    return { address };
  } catch (cause) {
    throw new EngineUnavailableError(address, cause);
  }
}
