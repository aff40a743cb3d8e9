// One hosted MCP server's container: made with the same locked-down options as a run's (see
// container/container.ts createOptions: user nobody, read-only root, no capabilities,
// no-new-privileges, limits, network none unless declared), the server as its main process with
// stdin attached, and Loom's labels so that any later Loom start reaps it if this process dies.
import type Docker from 'dockerode';
import { createOptions } from '../../engine/container/container';
import { openAttach } from '../../engine/container/exec';
import { removeContainer } from '../../engine/pool/containers';
import type { Owner } from '../../engine/pool/labels';
import type { HostedServerSpec } from './config';
import { ContainerStdioTransport } from './container-transport';

export const MCP_LABEL = {
  server: 'dev.loom.mcp-server',
  session: 'dev.loom.mcp-session',
} as const;

export interface HostedContainer {
  id: string;
  name: string;
  transport: ContainerStdioTransport;
  remove(): Promise<void>;
}

export class MissingSecretError extends Error {
  override name = 'MissingSecretError';
}

/** The secrets' values from Loom's environment; a missing one fails the start, naming it (never its value). */
export function secretEnv(spec: HostedServerSpec, env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of spec.secrets) {
    const value = env[name];
    if (value === undefined) throw new MissingSecretError(`the MCP server '${spec.name}' needs the secret ${name}: set it in Loom's environment`);
    out[name] = value;
  }
  return out;
}

export async function startHostedContainer(
  docker: Docker,
  spec: HostedServerSpec,
  owner: Owner,
  sessionId: string,
  secrets: Record<string, string>,
): Promise<HostedContainer> {
  try {
    await docker.getImage(spec.image).inspect();
  } catch {
    throw new Error(`the image ${spec.image} of the MCP server '${spec.name}' is not on the engine (scripts/build-images.sh mcp builds loom-mcp-servers:1)`);
  }
  const options = createOptions({
    // runc, as every sandbox by default (a hosted server under gVisor is not tested yet).
    spec: { ...spec, packages: [], mounts: [], isolation: 'runc' },
    poolKey: `mcp-${spec.name}`,
    owner,
    runner: spec.argv,
    // Secrets go into the environment only: not the labels, not the name, not argv.
    extraEnv: secrets,
  });
  options.Labels = { ...options.Labels, [MCP_LABEL.server]: spec.name, [MCP_LABEL.session]: sessionId };
  const container = await docker.createContainer(options);
  const remove = () => removeContainer(docker, container.id);
  try {
    const stream = await openAttach(container);
    const transport = new ContainerStdioTransport(stream);
    await container.start();
    return { id: container.id, name: options.name ?? container.id, transport, remove };
  } catch (err) {
    await remove().catch(() => undefined);
    throw err;
  }
}
