// The add-a-server form's fields and how they become an McpServerConfig (proto3 JSON). Only
// shaping here: the host checks the config as it checks the servers file, naming the field.
import type { McpServerConfigJson } from '../../../../shared/gen/loom/v1/mcp_pb';
import { splitShellWords } from '../../lib/shell-words';

export interface HostedForm {
  name: string;
  image: string;
  /** The server's argv as a command line (split as sh would; nothing runs a shell). */
  command: string;
  network: 'none' | 'bridge';
  /** KEY=VALUE, one a line. */
  env: string;
  /** Names of variables of Loom's environment, separated by spaces or commas. */
  secrets: string;
}

/** server-everything from the image scripts/build-images.sh mcp makes. */
export const EXAMPLE_FORM: HostedForm = {
  name: 'everything',
  image: 'loom-mcp-servers:1',
  command: 'node /opt/mcp/node_modules/@modelcontextprotocol/server-everything/dist/index.js stdio',
  network: 'none',
  env: '',
  secrets: '',
};

export class HostedFormError extends Error {
  override name = 'HostedFormError';
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

export function configOf(form: HostedForm): McpServerConfigJson {
  let command: string[];
  try {
    command = splitShellWords(form.command);
  } catch (err) {
    throw new HostedFormError('server.command', err instanceof Error ? err.message : String(err));
  }
  const env: Record<string, string> = {};
  for (const [i, line] of form.env.split('\n').entries()) {
    if (line.trim() === '') continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new HostedFormError('server.env', `line ${i + 1} must be KEY=VALUE`);
    env[line.slice(0, eq).trim()] = line.slice(eq + 1);
  }
  const secrets = form.secrets.split(/[\s,]+/).filter(Boolean);
  return {
    name: form.name.trim(),
    ...(form.image.trim() ? { image: form.image.trim() } : {}),
    ...(command.length ? { command } : {}),
    ...(Object.keys(env).length ? { env } : {}),
    ...(secrets.length ? { secrets } : {}),
    ...(form.network === 'bridge' ? { network: 'NETWORK_MODE_BRIDGE' as const } : {}),
  };
}

/** Arguments to start from: the tool's required properties, each with an empty value of its type. */
export function argumentsSkeleton(schema: Record<string, unknown>): string {
  const properties = (schema['properties'] ?? {}) as Record<string, { type?: unknown }>;
  const required = Array.isArray(schema['required']) ? (schema['required'] as unknown[]).filter((r): r is string => typeof r === 'string') : [];
  const out: Record<string, unknown> = {};
  for (const name of required) {
    const type = properties[name]?.type;
    out[name] = type === 'number' || type === 'integer' ? 0 : type === 'boolean' ? false : type === 'array' ? [] : type === 'object' ? {} : '';
  }
  return JSON.stringify(out, null, 2);
}
