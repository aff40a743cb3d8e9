// Hosting real MCP servers from the npm registry (server-everything, server-filesystem, in the
// loom-mcp-servers:1 image that scripts/build-images.sh makes) behind the real `loom mcp`, used by
// the SDK's Client: one container per client session, reused across its calls, removed on close,
// reaped after a crash; secrets only in the container's environment.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ContainerInfo } from 'dockerode';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { docker, requireEngineAndImages, waitFor } from '../../engine/testing/test-support';
import { randomUUID } from 'node:crypto';
import { currentOwner } from '../../engine/pool/labels';
import { MemorySink } from '../../engine/tracing/tracer';
import { parseServers } from './config';
import { McpHosting } from './manager';
import { MCP_LABEL } from './hosted-container';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const BIN = join(ROOT, 'bin', 'loom.js');
const IMAGE = 'loom-mcp-servers:1';
const SECRET = `s3cr3t-${Math.random().toString(36).slice(2)}`;

let home = '';
let serversFile = '';
const children = new Set<ChildProcess>();

beforeAll(async () => {
  await requireEngineAndImages();
  await docker
    .getImage(IMAGE)
    .inspect()
    .catch(() => {
      throw new Error(`${IMAGE} is missing: run 'bash scripts/build-images.sh mcp'`);
    });
  home = await mkdtemp(join(tmpdir(), 'loom-mcp-hosting-'));
  serversFile = join(home, 'servers.json');
  await writeFile(
    serversFile,
    JSON.stringify({
      servers: [
        {
          name: 'everything',
          image: IMAGE,
          command: ['node', '/opt/mcp/node_modules/@modelcontextprotocol/server-everything/dist/index.js', 'stdio'],
          secrets: ['LOOM_TEST_API_TOKEN'],
          idleTtlSeconds: 600,
        },
        { name: 'files', image: IMAGE, command: ['node', '/opt/mcp/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js', '/tmp'], idleTtlSeconds: 2 },
      ],
    }),
  );
});

afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
});

afterAll(async () => {
  if (home) await rm(home, { recursive: true, force: true });
});

const env = (): Record<string, string> => ({ ...(process.env as Record<string, string>), LOOM_HOME: home, LOOM_TEST_API_TOKEN: SECRET });

async function hostedContainers(server: string, ownerPid?: number): Promise<ContainerInfo[]> {
  const all = await docker.listContainers({ all: true, filters: { label: [`${MCP_LABEL.server}=${server}`] } });
  return ownerPid === undefined ? all : all.filter((c) => c.Labels['dev.loom.owner-pid'] === String(ownerPid));
}

interface Loom {
  child: ChildProcess;
  origin: string;
  token: string;
  stderr: () => string;
}

async function startLoom(): Promise<Loom> {
  const child = spawn(process.execPath, [BIN, 'mcp', '--http', '--port', '0', '--servers', serversFile], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const lines = await new Promise<string[]>((done, fail) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const got = out.split('\n');
      if (got.length >= 3) done(got);
    });
    child.on('exit', (code) => fail(new Error(`loom mcp exited with ${code}: ${err}`)));
  });
  return { child, origin: new URL(lines[0] ?? '').origin, token: (lines[1] ?? '').replace('Authorization: Bearer ', ''), stderr: () => err };
}

async function connect(loom: Loom, server: string): Promise<Client> {
  const client = new Client({ name: 'hosting-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${loom.origin}/mcp/servers/${server}`), {
    requestInit: { headers: { Authorization: `Bearer ${loom.token}` } },
  });
  await client.connect(transport);
  return Object.assign(client, { end: () => transport.terminateSession().then(() => client.close()) });
}

/** Ends the session as a client should: DELETE, then close. */
const end = (client: Client): Promise<void> => (client as Client & { end(): Promise<void> }).end();

const echo = async (client: Client, message: string): Promise<string> => {
  const result = (await client.callTool({ name: 'echo', arguments: { message } })) as CallToolResult;
  return (result.content[0] as { text: string }).text;
};

describe('hosted MCP servers over streamable HTTP', () => {
  it('gives two clients two containers, reuses one per client, and removes it on close', async () => {
    const loom = await startLoom();
    const pid = loom.child.pid ?? 0;
    const [a, b] = await Promise.all([connect(loom, 'everything'), connect(loom, 'everything')]);
    const tools = await a.listTools();
    expect(tools.tools.map((t) => t.name)).toContain('echo');
    for (let i = 0; i < 3; i++) expect(await echo(a, `a${i}`)).toContain(`a${i}`);
    expect(await echo(b, 'b')).toContain('b');
    const running = await hostedContainers('everything', pid);
    expect(running).toHaveLength(2);
    const sessions = new Set(running.map((c) => c.Labels[MCP_LABEL.session]));
    expect(sessions.size).toBe(2);

    // Locked down as runs are, and the secret only in the environment.
    const inspected = await docker.getContainer(running[0]?.Id ?? '').inspect();
    expect(inspected.Config.User).toBe('65534:65534');
    expect(inspected.HostConfig.ReadonlyRootfs).toBe(true);
    expect(inspected.HostConfig.CapDrop).toEqual(['ALL']);
    expect(inspected.HostConfig.NetworkMode).toBe('none');
    expect(inspected.Config.Env).toContain(`LOOM_TEST_API_TOKEN=${SECRET}`);
    const exposed = JSON.stringify([inspected.Args, inspected.Path, inspected.Config.Cmd, inspected.Config.Entrypoint, inspected.Config.Labels, inspected.Name]);
    expect(exposed).not.toContain(SECRET);

    await end(a);
    await waitFor('the closed session container removed', async () => (await hostedContainers('everything', pid)).length === 1, 30_000);
    expect(await echo(b, 'still')).toContain('still');
    await end(b);
    await waitFor('every hosted container removed', async () => (await hostedContainers('everything', pid)).length === 0, 30_000);
    expect(loom.stderr()).not.toContain(SECRET);
    loom.child.kill('SIGINT');
  });

  it('ends a session idle past its TTL, removing its container', async () => {
    const loom = await startLoom();
    const pid = loom.child.pid ?? 0;
    const client = await connect(loom, 'files');
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).toContain('list_allowed_directories');
    expect(await hostedContainers('files', pid)).toHaveLength(1);
    await waitFor('the idle container removed', async () => (await hostedContainers('files', pid)).length === 0, 30_000);
    await expect(client.listTools()).rejects.toThrow();
    loom.child.kill('SIGINT');
  });

  it('leaves nothing after a killed Loom once Loom starts again', async () => {
    const first = await startLoom();
    const pid = first.child.pid ?? 0;
    const client = await connect(first, 'everything');
    expect(await echo(client, 'before the crash')).toContain('before the crash');
    expect(await hostedContainers('everything', pid)).toHaveLength(1);
    first.child.kill('SIGKILL');
    await new Promise((done) => first.child.on('exit', done));
    expect(await hostedContainers('everything', pid)).toHaveLength(1);
    const second = await startLoom();
    await waitFor('the crashed Loom\'s container reaped', async () => (await hostedContainers('everything', pid)).length === 0, 60_000);
    second.child.kill('SIGINT');
  });
});

describe('a hosted MCP server over stdio (loom mcp --serve)', () => {
  it('serves its tools in one container, removed when the client goes', async () => {
    const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp', '--serve', 'everything', '--servers', serversFile], env: env() });
    const client = new Client({ name: 'hosting-stdio-test', version: '1.0.0' });
    await client.connect(transport);
    const pid = transport.pid ?? 0;
    expect(await echo(client, 'one')).toContain('one');
    expect(await echo(client, 'two')).toContain('two');
    expect(await hostedContainers('everything', pid)).toHaveLength(1);
    await client.close();
    await waitFor('the container removed', async () => (await hostedContainers('everything', pid)).length === 0, 30_000);
  });
});

describe('hosted calls as spans', () => {
  it("makes each call an mcp.tool.call span in the caller's trace, with no secret in it", async () => {
    const sink = new MemorySink();
    const servers = parseServers({ servers: [{ name: 'everything', image: IMAGE, command: ['node', '/opt/mcp/node_modules/@modelcontextprotocol/server-everything/dist/index.js', 'stdio'], secrets: ['LOOM_TEST_API_TOKEN'] }] });
    const hosting = new McpHosting({ docker, owner: currentOwner(randomUUID().replace(/-/g, '')), servers, traceSinks: [sink], env: env() });
    try {
      const session = hosting.openSession('everything', 'span-test');
      const traceId = '0af7651916cd43dd8448eb211c80319c';
      const result = await session.callTool({ name: 'echo', arguments: { message: 'traced' } }, { traceId, spanId: 'b7ad6b7169203331', flags: 1 });
      expect(JSON.stringify(result.content)).toContain('traced');
      const [span] = sink.spans(traceId);
      expect(span).toMatchObject({ name: 'mcp.tool.call', parentSpanId: 'b7ad6b7169203331' });
      expect(span?.attributes).toMatchObject({ 'mcp.server.name': 'everything', 'gen_ai.tool.name': 'echo', 'mcp.session.id': 'span-test' });
      expect(JSON.stringify(span?.attributes)).not.toContain(SECRET);
      expect(hosting.view()[0]?.sessions).toHaveLength(1);
      expect(hosting.calls()[0]).toMatchObject({ server: 'everything', tool: 'echo', isError: false });
    } finally {
      await hosting.close();
    }
    expect(await hostedContainers('everything', process.pid)).toHaveLength(0);
  });
});

describe('the servers file', () => {
  it('names the field of every mistake', () => {
    expect(() => parseServers({ servers: [{ name: 'Bad Name', image: IMAGE, command: ['x'] }] })).toThrow(/servers\[0\]\.name/);
    expect(() => parseServers({ servers: [{ name: 'a', image: IMAGE }] })).toThrow(/servers\[0\]\.command/);
    expect(() => parseServers({ servers: [{ name: 'a', runtime: 'RUNTIME_TYPE_NODE', package: 'x' }] })).toThrow(/servers\[0\]\.network/);
    expect(() => parseServers({ servers: [{ name: 'a', image: IMAGE, command: ['x'], env: { T: '1' }, secrets: ['T'] }] })).toThrow(/servers\[0\]\.secrets\[0\]/);
    expect(() => parseServers({ servers: [{ name: 'a', image: IMAGE, command: ['x'], nmae: 'typo' }] })).toThrow(/nmae/);
    expect(parseServers({ servers: [{ name: 'a', runtime: 'RUNTIME_TYPE_NODE', package: 'pkg', network: 'NETWORK_MODE_BRIDGE' }] })[0]?.argv).toEqual(['npx', '--yes', 'pkg']);
  });
});
