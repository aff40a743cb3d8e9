// The app's edits to a servers file (config.ts reads it): adding a server checks it as the file
// is checked (parseServer, so errors name `server.FIELD`), then the whole file again; removing
// takes its entry out. The other entries are kept as their author wrote them (re-indented only),
// and a file that does not parse is never overwritten: the user fixes it first.
import { fromJson, toJson, type JsonValue } from '@bufbuild/protobuf';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { McpServerConfigSchema } from '../../../../shared/gen/loom/v1/mcp_pb';
import { ValidationError } from '../../engine/errors';
import { parseServer, parseServers, type HostedServerSpec } from './config';

interface RawFile {
  [key: string]: JsonValue;
  servers: JsonValue[];
}

export class ServersFile {
  /** Edits one at a time: two adds at once must not both read the file before either writes. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly path: string) {}

  /** The declared servers; a missing file is none. Throws (naming the field) when it does not parse. */
  async load(): Promise<HostedServerSpec[]> {
    return parseServers(await this.readRaw(), this.path);
  }

  /** Adds a server (proto3 JSON of McpServerConfig); answers the file's servers after it. */
  add(json: unknown): Promise<HostedServerSpec[]> {
    return this.edit(async (raw, specs) => {
      const spec = parseServer(json as JsonValue);
      if (specs.some((s) => s.name === spec.name)) throw new ValidationError('server.name', `'${spec.name}' is already declared in ${this.path}: remove it first, or choose another name`);
      // Written in its canonical form: unknown fields were refused by parseServer, defaults left out.
      const canonical = toJson(McpServerConfigSchema, fromJson(McpServerConfigSchema, json as JsonValue));
      return { ...raw, servers: [...raw.servers, canonical] };
    });
  }

  /** Removes a server by name; answers the file's servers after it. */
  remove(name: unknown): Promise<HostedServerSpec[]> {
    return this.edit(async (raw, specs) => {
      const at = specs.findIndex((s) => s.name === name);
      if (at < 0) throw new ValidationError('name', `no hosted MCP server is named ${JSON.stringify(name)} in ${this.path} (declared: ${specs.map((s) => s.name).join(', ') || 'none'})`);
      return { ...raw, servers: raw.servers.filter((_, i) => i !== at) };
    });
  }

  private edit(change: (raw: RawFile, specs: HostedServerSpec[]) => Promise<RawFile>): Promise<HostedServerSpec[]> {
    const next = this.queue.then(async () => {
      const raw = await this.readRaw();
      // A broken file stops the edit with its own error: writing would lose what the user wrote.
      const before = parseServers(raw, this.path);
      const after = await change(raw, before);
      const specs = parseServers(after, this.path);
      await writeAtomically(this.path, `${JSON.stringify(after, null, 2)}\n`);
      return specs;
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async readRaw(): Promise<RawFile> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { servers: [] };
      throw err;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new ValidationError(this.path, `not JSON: ${(err as Error).message}`);
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ValidationError(this.path, 'must be a JSON object: {"servers": [...]}');
    const servers = (json as Record<string, unknown>)['servers'] ?? [];
    if (!Array.isArray(servers)) throw new ValidationError(`${this.path}: servers`, 'must be an array');
    return { ...(json as Record<string, JsonValue>), servers: servers as JsonValue[] };
  }
}

/** A reader (`loom mcp` starting) sees the old file or the new one, never half of one. */
async function writeAtomically(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    // 0600: env values are plain text in it (secrets are names only, but env may still be private).
    await writeFile(tmp, text, { mode: 0o600 });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
