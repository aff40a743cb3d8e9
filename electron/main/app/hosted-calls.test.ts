// The service's hosted-MCP-server calls against the real engine and the real server-everything
// (loom-mcp-servers:1): a server declared in the window goes into the servers file with the
// file's own checks, its tools come from tools/list through its container, a call is answered
// and stored as an `mcp.tool.call` span, the window's calls share one container, and removing
// the server or closing the service removes it.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { McpServerConfigJson } from '../../../shared/gen/loom/v1/mcp_pb';
import { MCP_LABEL } from '../mcp/hosting/hosted-container';
import { docker, requireEngineAndImages, waitFor } from '../engine/testing/test-support';
import { createLoomService, type LoomService } from './service';

const IMAGE = 'loom-mcp-servers:1';
const EVERYTHING: McpServerConfigJson = {
  name: 'everything',
  image: IMAGE,
  command: ['node', '/opt/mcp/node_modules/@modelcontextprotocol/server-everything/dist/index.js', 'stdio'],
};

let dir = '';
const services: LoomService[] = [];

async function start(name: string, extra: { mcpServersPath?: string } = {}): Promise<LoomService> {
  const service = await createLoomService({ historyPath: join(dir, `${name}.sqlite`), ...extra });
  services.push(service);
  return service;
}

/** The containers of a hosted server on the engine (any session, this process's). */
async function hostedContainers(server: string): Promise<string[]> {
  const all = await docker.listContainers({ all: true, filters: { label: [`${MCP_LABEL.server}=${server}`, `dev.loom.owner-pid=${process.pid}`] } });
  return all.map((c) => c.Id);
}

async function failure(promise: Promise<unknown>): Promise<{ name: string; field?: string; message: string }> {
  return promise.then(
    () => {
      throw new Error('the call was accepted');
    },
    (err: unknown) => err as { name: string; field?: string; message: string },
  );
}

beforeAll(async () => {
  await requireEngineAndImages();
  await docker
    .getImage(IMAGE)
    .inspect()
    .catch(() => {
      throw new Error(`${IMAGE} is missing: run 'bash scripts/build-images.sh mcp'`);
    });
  dir = await mkdtemp(join(tmpdir(), 'loom-hosted-calls-'));
});

afterAll(async () => {
  await Promise.allSettled(services.map((s) => s.close()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('hosted MCP servers through the service', () => {
  it('adds a server to the servers file, lists its tools, calls one as a traced span in one container, and removes it with its container', async () => {
    const file = join(dir, 'a-servers.json');
    const service = await start('a', { mcpServersPath: file });
    expect((await service.listHostedServers()).servers).toEqual([]);

    const added = await service.addHostedServer({ ...EVERYTHING, env: { GREETING: 'hello' } });
    expect(added).toMatchObject({ name: 'everything', image: IMAGE, network: 'none', idleTtlSeconds: 600 });
    const written = JSON.parse(await readFile(file, 'utf8')) as { servers: McpServerConfigJson[] };
    expect(written.servers).toEqual([{ ...EVERYTHING, env: { GREETING: 'hello' } }]);

    const tools = await service.listHostedTools('everything');
    const echo = tools.find((t) => t.name === 'echo');
    expect(echo?.inputSchema).toMatchObject({ type: 'object' });

    const first = await service.callHostedTool('everything', 'echo', { message: 'from the window' });
    expect(first.isError).toBe(false);
    expect(first.content).toEqual([{ type: 'text', text: 'Echo: from the window' }]);
    const second = await service.callHostedTool('everything', 'echo', { message: 'again' });
    expect(second.content[0]?.text).toBe('Echo: again');
    expect(second.traceId).not.toBe(first.traceId);

    // The call's span is in the trace store, named and attributed as hosted calls are.
    const trace = await waitFor('the call span in the store', async () => (await service.getTrace(first.traceId)) ?? undefined);
    const span = trace.spans.find((s) => s.name === 'mcp.tool.call');
    expect(span?.attributes).toMatchObject({ 'mcp.server.name': 'everything', 'gen_ai.tool.name': 'echo' });
    expect(span?.parentSpanId).toBe('');

    // One container for the window's session, used by both calls.
    const containers = await hostedContainers('everything');
    expect(containers).toHaveLength(1);
    const view = await service.listHostedServers();
    expect(view.file).toBe(file);
    const server = view.servers.find((s) => s.name === 'everything');
    expect(server?.sessions).toHaveLength(1);
    expect(server?.sessions[0]?.containerId).toBe(containers[0]);
    expect(server?.sessions[0]?.calls).toBe(2);
    expect(server?.tools.map((t) => t.name)).toContain('echo');
    expect(view.calls.map((c) => [c.tool, c.traceId, c.isError])).toEqual([
      ['echo', second.traceId, false],
      ['echo', first.traceId, false],
    ]);

    await service.removeHostedServer('everything');
    expect(await hostedContainers('everything')).toEqual([]);
    expect((await service.listHostedServers()).servers).toEqual([]);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ servers: [] });
    expect((await failure(service.callHostedTool('everything', 'echo', {}))).field).toBe('server');
  });

  it('checks a server as the file is checked, naming the field, and refuses a second one of a name', async () => {
    const file = join(dir, 'b-servers.json');
    const service = await start('b', { mcpServersPath: file });
    const noCommand = await failure(service.addHostedServer({ name: 'x', image: IMAGE }));
    expect(noCommand).toMatchObject({ name: 'ValidationError', field: 'server.command' });
    const badName = await failure(service.addHostedServer({ ...EVERYTHING, name: 'Bad Name' }));
    expect(badName.field).toBe('server.name');
    const badLimit = await failure(service.addHostedServer({ ...EVERYTHING, limits: { memoryMb: '1' } }));
    expect(badLimit.field).toBe('server.limits.memoryMb');
    const typo = await failure(service.addHostedServer({ ...EVERYTHING, comand: ['x'] } as McpServerConfigJson));
    expect(typo).toMatchObject({ field: 'server' });
    expect(typo.message).toContain('comand');
    // Nothing was written by the refused ones.
    await expect(readFile(file, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });

    await service.addHostedServer(EVERYTHING);
    const twice = await failure(service.addHostedServer(EVERYTHING));
    expect(twice.field).toBe('server.name');
    expect((await failure(service.removeHostedServer('nope'))).field).toBe('name');
    expect((await failure(service.callHostedTool('everything', 'echo', [] as unknown as Record<string, unknown>))).field).toBe('arguments');
    expect((await failure(service.callHostedTool('everything', '', {}))).field).toBe('tool');
    // Declared but never used: no container was started for it.
    expect(await hostedContainers('everything')).toEqual([]);
  });

  it('reads servers declared earlier (in the file or the window) at start, and closing the service removes their containers', async () => {
    const file = join(dir, 'c-servers.json');
    await writeFile(file, JSON.stringify({ servers: [{ ...EVERYTHING, name: 'from-file' }] }));
    const first = await start('c', { mcpServersPath: file });
    await first.addHostedServer({ ...EVERYTHING, name: 'from-window' });
    await first.close();

    const service = await start('c2', { mcpServersPath: file });
    expect((await service.listHostedServers()).servers.map((s) => s.name)).toEqual(['from-file', 'from-window']);
    const result = await service.callHostedTool('from-window', 'echo', { message: 'persisted' });
    expect(result.content[0]?.text).toBe('Echo: persisted');
    expect(await hostedContainers('from-window')).toHaveLength(1);
    await service.close();
    expect(await hostedContainers('from-window')).toEqual([]);
  });

  it('shows why a broken servers file is not used, and never overwrites it', async () => {
    const file = join(dir, 'd-servers.json');
    const broken = JSON.stringify({ servers: [{ name: 'x', image: IMAGE }] });
    await writeFile(file, broken);
    const service = await start('d', { mcpServersPath: file });
    const view = await service.listHostedServers();
    expect(view.servers).toEqual([]);
    expect(view.fileError).toContain('servers[0].command');
    const refused = await failure(service.addHostedServer(EVERYTHING));
    expect(refused.field).toBe('servers[0].command');
    expect(await readFile(file, 'utf8')).toBe(broken);
  });
});
