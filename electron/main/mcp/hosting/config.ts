// The MCP servers a user declares for Loom to host: $LOOM_HOME/mcp-servers.json (proto3 JSON of
// loom.v1.McpServersFile) or the app. Checked whole at load, every problem naming its field
// (`servers[1].command: ...`), so a typo fails at start rather than at a client's first call.
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { readFile } from 'node:fs/promises';
import { McpServerConfigSchema, McpServersFileSchema, type McpServerConfig } from '../../../../shared/gen/loom/v1/mcp_pb';
import { NetworkMode, RuntimeType } from '../../../../shared/gen/loom/v1/docker_pb';
import { DEFAULT_IMAGES, DEFAULT_LIMITS, MAX_LIMITS, MIN_MEMORY_MB } from '../../../../shared/defaults';
import { runtimeOf } from '../../../../shared/runtimes';
import { ValidationError } from '../../engine/errors';

export const SERVERS_FILE = 'mcp-servers.json';
export const DEFAULT_IDLE_TTL_SECONDS = 600;
const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A declared server with every default applied: what a container is started from. */
export interface HostedServerSpec {
  name: string;
  image: string;
  runtime: 'python' | 'node' | 'custom';
  argv: string[];
  env: Record<string, string>;
  /** Names only: values are read from Loom's environment when a container starts. */
  secrets: string[];
  network: 'none' | 'bridge';
  cpuCores: number;
  memoryMb: number;
  storageMb: number;
  pidsLimit: number;
  idleTtlMs: number;
}

/** Reads and checks a servers file; a missing file is no servers. */
export async function loadServersFile(path: string): Promise<HostedServerSpec[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  let json: JsonValue;
  try {
    json = JSON.parse(text) as JsonValue;
  } catch (err) {
    throw new ValidationError(path, `not JSON: ${(err as Error).message}`);
  }
  return parseServers(json, path);
}

export function parseServers(json: JsonValue, where = 'servers file'): HostedServerSpec[] {
  let file;
  try {
    file = fromJson(McpServersFileSchema, json);
  } catch (err) {
    // protobuf-es names the message and field: "cannot decode field loom.v1.McpServerConfig.nmae ..."
    throw new ValidationError(where, (err as Error).message);
  }
  const specs = file.servers.map((server, i) => checkServer(server, `servers[${i}]`));
  const seen = new Set<string>();
  specs.forEach((s, i) => {
    if (seen.has(s.name)) throw new ValidationError(`servers[${i}].name`, `'${s.name}' is declared twice`);
    seen.add(s.name);
  });
  return specs;
}

/** One server from the app (proto3 JSON of McpServerConfig). */
export function parseServer(json: JsonValue): HostedServerSpec {
  let config;
  try {
    config = fromJson(McpServerConfigSchema, json);
  } catch (err) {
    throw new ValidationError('server', (err as Error).message);
  }
  return checkServer(config, 'server');
}

export function checkServer(c: McpServerConfig, at: string): HostedServerSpec {
  const field = (name: string) => `${at}.${name}`;
  if (!NAME.test(c.name)) throw new ValidationError(field('name'), `'${c.name}' must be 1-63 of a-z, 0-9, '_' and '-', starting with a letter or digit`);
  const runtime = c.runtime === RuntimeType.UNSPECIFIED ? undefined : runtimeOf(c.runtime);
  if (c.runtime !== RuntimeType.UNSPECIFIED && !runtime) throw new ValidationError(field('runtime'), `unknown runtime ${c.runtime}`);
  if (runtime && runtime !== 'python' && runtime !== 'node' && runtime !== 'custom') {
    throw new ValidationError(field('runtime'), `a hosted server runs in a python, node or custom image, not ${runtime}`);
  }
  if (!c.image && (!runtime || runtime === 'custom')) throw new ValidationError(field('image'), 'give an image (with the server installed), or a runtime (python or node) and a package');
  const network = c.network === NetworkMode.BRIDGE ? 'bridge' : 'none';
  let argv = [...c.command];
  if (c.package) {
    if (c.image || runtime !== 'node') throw new ValidationError(field('package'), 'is for runtime node without an image (it runs `npx --yes PACKAGE`); with an image, give the command instead');
    if (argv.length) throw new ValidationError(field('command'), 'give either a package or a command, not both');
    if (network !== 'bridge') throw new ValidationError(field('network'), `a package is installed when the container starts, which needs network BRIDGE; or build an image with ${c.package} installed`);
    argv = ['npx', '--yes', c.package];
  }
  if (argv.length === 0) throw new ValidationError(field('command'), 'must name the server program and its arguments (e.g. ["node", "/opt/mcp/server.js"])');
  if (argv.some((a) => a.includes('\0'))) throw new ValidationError(field('command'), 'must not contain NUL characters');
  for (const name of Object.keys(c.env)) {
    if (!ENV_NAME.test(name)) throw new ValidationError(field(`env.${name}`), 'is not a valid environment variable name');
  }
  for (const [i, name] of c.secrets.entries()) {
    if (!ENV_NAME.test(name)) throw new ValidationError(field(`secrets[${i}]`), `'${name}' is not a valid environment variable name`);
    if (name in c.env) throw new ValidationError(field(`secrets[${i}]`), `'${name}' is also in env: a secret's value comes from Loom's environment only`);
  }
  const limits = c.limits;
  const bounded = (value: number, name: keyof typeof MAX_LIMITS, fallback: number, min = 0): number => {
    if (value === 0) return fallback;
    if (!(value > min) || value > MAX_LIMITS[name]) throw new ValidationError(field(`limits.${name}`), `${value} must be above ${min} and at most ${MAX_LIMITS[name]}`);
    return value;
  };
  const ttl = c.idleTtlSeconds === 0 ? DEFAULT_IDLE_TTL_SECONDS : c.idleTtlSeconds;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 7 * 24 * 3600) throw new ValidationError(field('idle_ttl_seconds'), `${c.idleTtlSeconds} must be from 1 to ${7 * 24 * 3600}`);
  return {
    name: c.name,
    image: c.image || DEFAULT_IMAGES[runtime as 'python' | 'node'],
    runtime: runtime ?? 'custom',
    argv,
    env: { ...c.env },
    secrets: [...c.secrets],
    network,
    cpuCores: bounded(limits?.cpuCores ?? 0, 'cpuCores', DEFAULT_LIMITS.cpuCores),
    memoryMb: bounded(Number(limits?.memoryMb ?? 0n), 'memoryMb', DEFAULT_LIMITS.memoryMb, MIN_MEMORY_MB - 1),
    storageMb: bounded(Number(limits?.storageMb ?? 0n), 'storageMb', DEFAULT_LIMITS.storageMb),
    pidsLimit: bounded(limits?.pidsLimit ?? 0, 'pidsLimit', DEFAULT_LIMITS.pidsLimit),
    idleTtlMs: ttl * 1000,
  };
}
