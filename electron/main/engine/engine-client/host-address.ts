// The address a container on Docker's default bridge reaches the host by: where a package
// registry or index served on the host must listen for bridge containers to reach it.
//
// The network's IPAM gateway is not enough: a freshly started engine (Docker 20.10, no
// network state yet) records the bridge's subnet without its gateway, while the bridge
// interface has the address all along. So three sources are asked, in order, and the first
// answer wins; when all fail the error names what each one said.
import type Docker from 'dockerode';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createOptions } from '../container/container';
import { describeCause, LoomError } from '../errors';
import { runExec } from '../container/exec';
import { currentOwner } from '../pool/labels';
import type { ContainerSpec } from '../request/request';

export type HostAddressSource = 'ipam' | 'interface' | 'container';

export interface HostAddress {
  address: string;
  /** Which source answered: the network's IPAM gateway, the bridge interface, or a container's route. */
  source: HostAddressSource;
}

export interface HostAddressOptions {
  /** The network to ask about (default `bridge`, Docker's default bridge). */
  network?: string;
  /** An image present on the engine with `cat`, for the last resort: a throwaway container. */
  image: string;
  /** The sources to try, in order (default all three). */
  sources?: readonly HostAddressSource[];
}

interface NetworkInspect {
  Name?: string;
  Driver?: string;
  IPAM?: { Config?: { Subnet?: string; Gateway?: string }[] | null };
  Options?: Record<string, string> | null;
}

const BRIDGE_NAME_OPTION = 'com.docker.network.bridge.name';
const ALL_SOURCES: readonly HostAddressSource[] = ['ipam', 'interface', 'container'];

/** The IPv4 gateway recorded in the network's IPAM config, if any. */
export function gatewayFromIpam(network: NetworkInspect): string | undefined {
  return network.IPAM?.Config?.map((c) => c.Gateway).find((g): g is string => !!g && isIpv4(g));
}

/**
 * The IPv4 address of the network's bridge interface on this machine (docker0 for the default
 * bridge), read from the kernel's tables: Node's networkInterfaces() leaves out an interface
 * that is down, as docker0 is while no container uses it. Only meaningful when the engine runs
 * on this machine (not over tcp:// or ssh://, nor in Docker Desktop's VM).
 */
export function gatewayFromInterface(network: NetworkInspect, tables: KernelTables = readKernelTables()): string | undefined {
  const name = bridgeInterface(network);
  if (!name || !tables.route || !tables.fibTrie) return undefined;
  const subnets = routesOf(tables.route, name);
  return localAddresses(tables.fibTrie).find((address) => subnets.some((s) => (toInt(address) & s.mask) >>> 0 === s.network));
}

export interface KernelTables {
  /** /proc/net/route */
  route?: string;
  /** /proc/net/fib_trie */
  fibTrie?: string;
}

function readKernelTables(): KernelTables {
  const read = (path: string): string | undefined => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  };
  return { route: read('/proc/net/route'), fibTrie: read('/proc/net/fib_trie') };
}

/** The subnets routed to `iface` (network and mask as host-order integers). */
function routesOf(table: string, iface: string): { network: number; mask: number }[] {
  return table
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f[0] === iface && f[1] && f[7])
    .map((f) => ({ network: fromLittleEndianHex(f[1]!), mask: fromLittleEndianHex(f[7]!) }))
    .filter((r) => r.mask !== 0);
}

/** The machine's own addresses ("/32 host LOCAL" leaves) in /proc/net/fib_trie. */
function localAddresses(trie: string): string[] {
  const out = new Set<string>();
  let leaf: string | undefined;
  for (const line of trie.split('\n')) {
    const m = /\|-- (\d+\.\d+\.\d+\.\d+)/.exec(line);
    if (m) leaf = m[1];
    else if (leaf && /\/32 host LOCAL/.test(line)) out.add(leaf);
  }
  return [...out];
}

const toInt = (address: string): number => address.split('.').reduce((n, part) => ((n << 8) | Number(part)) >>> 0, 0);
const fromLittleEndianHex = (hex: string): number => {
  const n = Number.parseInt(hex, 16);
  return (((n & 255) << 24) | (((n >>> 8) & 255) << 16) | (((n >>> 16) & 255) << 8) | (n >>> 24)) >>> 0;
};
const toDotted = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');

/** The host interface of a bridge network: named in its options, docker0 for the default bridge. */
function bridgeInterface(network: NetworkInspect): string | undefined {
  return network.Options?.[BRIDGE_NAME_OPTION] ?? (network.Name === 'bridge' ? 'docker0' : undefined);
}

/** The default gateway in a /proc/net/route table (hex, little-endian), if any. */
export function gatewayFromRouteTable(table: string): string | undefined {
  for (const line of table.split('\n').slice(1)) {
    const [, destination, gateway, flags] = line.trim().split(/\s+/);
    // RTF_GATEWAY (0x2) on the default route (destination 0.0.0.0).
    if (destination !== '00000000' || !gateway || !(Number.parseInt(flags ?? '0', 16) & 2)) continue;
    const n = fromLittleEndianHex(gateway);
    if (n !== 0) return toDotted(n);
  }
  return undefined;
}

/** The default gateway as a throwaway container on the network sees it (its routing table). */
export async function gatewayFromContainer(docker: Docker, network: string, image: string): Promise<string | undefined> {
  const id = randomBytes(16).toString('hex');
  const spec: ContainerSpec = {
    name: 'host-address',
    image,
    runtime: 'custom',
    packages: [],
    cpuCores: 0.5,
    memoryMb: 64,
    storageMb: 16,
    pidsLimit: 16,
    network: 'bridge',
    env: {},
    mounts: [],
    isolation: 'runc',
  };
  const create = createOptions({ spec, poolKey: id, owner: currentOwner(id) });
  // Loom's labels stay: a crash between create and remove leaves a container the reaper removes.
  create.HostConfig = { ...create.HostConfig, NetworkMode: network };
  const container = await docker.createContainer(create);
  try {
    await container.start();
    const result = await runExec(container, { argv: ['cat', '/proc/net/route'], maxOutputBytes: 64 * 1024, timeoutMs: 15_000 });
    if (result.exitCode !== 0) throw new Error(`cat /proc/net/route exited ${result.exitCode}: ${result.stderr.toString('utf8').trim()}`);
    return gatewayFromRouteTable(result.stdout.toString('utf8'));
  } finally {
    await container.remove({ force: true, v: true }).catch(() => undefined);
  }
}

/** Whether the engine is this machine's (a unix socket), so its bridge interface is ours to see. */
function engineIsLocal(docker: Docker): boolean {
  const modem = (docker as unknown as { modem?: { socketPath?: unknown; host?: unknown } }).modem;
  return typeof modem?.socketPath === 'string' && !modem.host;
}

const cache = new WeakMap<Docker, Map<string, Promise<HostAddress>>>();

/**
 * The host's address as seen from containers on `network`: the IPAM gateway, else the bridge
 * interface's address (local engines only), else the gateway of a throwaway container. Asked
 * once per engine client and network; a failure is not remembered.
 */
export function bridgeHostAddress(docker: Docker, options: HostAddressOptions): Promise<HostAddress> {
  const network = options.network ?? 'bridge';
  const sources = options.sources ?? ALL_SOURCES;
  const key = `${network}\0${sources.join(',')}`;
  let known = cache.get(docker);
  if (!known) cache.set(docker, (known = new Map()));
  const found = known.get(key);
  if (found) return found;
  const lookup = findHostAddress(docker, network, options.image, sources);
  known.set(key, lookup);
  lookup.catch(() => known.delete(key));
  return lookup;
}

async function findHostAddress(docker: Docker, network: string, image: string, sources: readonly HostAddressSource[]): Promise<HostAddress> {
  const tried: string[] = [];
  let inspected: NetworkInspect | undefined;
  const inspect = async (): Promise<NetworkInspect> => (inspected ??= (await docker.getNetwork(network).inspect()) as NetworkInspect);
  for (const source of sources) {
    try {
      let address: string | undefined;
      if (source === 'ipam') {
        address = gatewayFromIpam(await inspect());
        if (!address) tried.push(`the network's IPAM config has no IPv4 gateway`);
      } else if (source === 'interface') {
        if (!engineIsLocal(docker)) {
          tried.push('the engine is not on this machine, so its bridge interface cannot be read here');
          continue;
        }
        const net = await inspect();
        const name = bridgeInterface(net);
        address = gatewayFromInterface(net);
        if (!address) tried.push(name ? `no IPv4 address on the bridge interface ${name}` : 'the network has no bridge interface');
      } else {
        address = await gatewayFromContainer(docker, network, image);
        if (!address) tried.push(`a container on ${network} has no default route`);
      }
      if (address) return { address, source };
    } catch (err) {
      tried.push(`${source}: ${describeCause(err)}`);
    }
  }
  throw new LoomError(`could not find the address containers on the "${network}" network reach the host by; tried: ${tried.join('; ')}`);
}

function isIpv4(text: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(text);
}
