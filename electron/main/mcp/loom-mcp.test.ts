// `loom mcp` as an agent uses it: the real command (node bin/loom.js mcp) with the real engine,
// driven by the MCP SDK's own Client over stdio and over streamable HTTP.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ErrorCode, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { release } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunHistory } from '../app/history';
import { listManaged } from '../engine/pool/containers';
import { docker, requireEngineAndImages, waitFor } from '../engine/testing/test-support';
import { BIN, envWithHome, httpClient, KERNEL_PROBE, output, startHttpServer, stdioClient, TINY_PNG_BASE64, type HttpServer } from './mcp-test-support';

let home = '';

beforeAll(async () => {
  await requireEngineAndImages();
  home = await mkdtemp(join(tmpdir(), 'loom-mcp-'));
});

afterAll(async () => {
  if (home) await rm(home, { recursive: true, force: true });
});

const env = (): Record<string, string> => envWithHome(home);

/** The cases both transports must pass. */
function transportSuite(connect: () => Promise<Client>, close: (client: Client) => Promise<void>): void {
  let client: Client;
  beforeAll(async () => {
    client = await connect();
  });
  afterAll(async () => {
    if (client) await close(client);
  });

  it('lists execute_code and list_languages, with output schemas and descriptions stating the limits', async () => {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    expect(names).toEqual(
      expect.arrayContaining(['execute_code', 'list_languages', 'create_session', 'list_sessions', 'restart_session', 'close_session', 'write_file', 'read_file', 'list_files', 'delete_file']),
    );
    const exec = tools.find((t) => t.name === 'execute_code');
    expect(exec?.outputSchema?.properties).toHaveProperty('exitCode');
    expect(exec?.inputSchema.required).toEqual(['language', 'code']);
    expect(exec?.description).toMatch(/no network/);
    expect(exec?.description).toMatch(/512 MB memory/);
    const languages = await client.callTool({ name: 'list_languages', arguments: {} });
    expect((languages.structuredContent as { languages: { name: string }[] }).languages.map((l) => l.name)).toEqual(['python', 'node', 'bash', 'go', 'rust', 'ruby', 'java']);
  });

  it('runs bash, go, rust, ruby and java from source; a compile error is an error result with the diagnostics', async () => {
    const hellos: [string, string][] = [
      ['bash', 'echo "hello $((6 * 7))"'],
      ['go', 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello", 6*7) }\n'],
      ['rust', 'fn main() { println!("hello {}", 6 * 7); }\n'],
      ['ruby', 'puts "hello #{6 * 7}"'],
      ['java', 'public class Main { public static void main(String[] a) { System.out.println("hello " + 6 * 7); } }\n'],
    ];
    for (const [language, code] of hellos) {
      const result = await client.callTool({ name: 'execute_code', arguments: { language, code, timeout_seconds: 120 } });
      expect([language, result.isError, output(result).stdout], output(result).stderr).toEqual([language, false, 'hello 42\n']);
    }
    const broken = await client.callTool({ name: 'execute_code', arguments: { language: 'go', code: 'package main\n\nfunc main() { undefined_name() }\n', timeout_seconds: 120 } });
    expect(broken.isError).toBe(true);
    expect(output(broken).stderr).toContain('undefined: undefined_name');
    // Packages and artifacts are python's and node's: asking for them elsewhere is refused by name.
    await expect(client.callTool({ name: 'execute_code', arguments: { language: 'ruby', code: 'puts 1', packages: ['rails'] } })).rejects.toMatchObject({
      code: ErrorCode.InvalidParams,
      message: expect.stringContaining('packages: Loom installs packages for python and node only'),
    });
    await expect(client.callTool({ name: 'execute_code', arguments: { language: 'bash', code: 'true', collect_artifacts: true } })).rejects.toMatchObject({
      code: ErrorCode.InvalidParams,
      message: expect.stringContaining('collect_artifacts'),
    });
  }, 300_000);

  it('runs code and returns text, structuredContent and no isError', async () => {
    const result = await client.callTool({ name: 'execute_code', arguments: { language: 'python', code: 'print(6 * 7)' } });
    expect(result.isError).toBe(false);
    expect(output(result)).toMatchObject({ exitCode: 0, timedOut: false, stdout: '42\n', outputs: [], artifacts: [] });
    expect(output(result).traceId).toMatch(/^[0-9a-f]{32}$/);
    expect((result.content as { text: string }[]).map((c) => c.text).join('\n')).toContain('42');
  });

  it('runs node, with input files written before the program starts', async () => {
    const result = await client.callTool({
      name: 'execute_code',
      arguments: {
        language: 'node',
        code: "console.log(require('fs').readFileSync('data/in.txt', 'utf8').toUpperCase())",
        files: [{ path: 'data/in.txt', content: 'hello files' }],
      },
    });
    expect(output(result)).toMatchObject({ exitCode: 0, stdout: 'HELLO FILES\n' });
  });

  it('returns display outputs as image content, and artifacts with their bytes up to the cap (a bigger one listed with a note)', async () => {
    const code = [
      'import base64, os',
      'from loom_display import display',
      `png = base64.b64decode("${TINY_PNG_BASE64}")`,
      'os.makedirs("/tmp/outputs", exist_ok=True)',
      'open("/tmp/outputs/x.png", "wb").write(png)',
      'open("/tmp/outputs/note.txt", "w").write("hello artifact")',
      'open("/tmp/outputs/big.bin", "wb").write(os.urandom(2 * 1024 * 1024))',
      'display(png)',
      'display({"answer": 42})',
    ].join('\n');
    const result = await client.callTool({ name: 'execute_code', arguments: { language: 'python', code } });
    expect(result.isError).toBe(false);
    const out = output(result);
    expect(out.outputs.map((o) => o.items.map((i) => i.mimeType))).toEqual([['image/png', 'text/plain'], ['text/plain']]);
    expect(out.outputs[1]?.items[0]?.text).toBe("{'answer': 42}");
    expect(out.artifacts).toEqual([
      expect.objectContaining({ path: 'outputs/big.bin', sizeBytes: 2 * 1024 * 1024, included: false, note: expect.stringMatching(/over the 1 MiB cap per artifact/) }),
      { path: 'outputs/note.txt', mimeType: 'text/plain', sizeBytes: 14, included: true },
      { path: 'outputs/x.png', mimeType: 'image/png', sizeBytes: 70, included: true },
    ]);
    const content = result.content as CallToolResult['content'];
    // The display output and the artifact: both the PNG's bytes, as image content.
    const images = content.filter((c) => c.type === 'image');
    expect(images).toEqual([
      { type: 'image', mimeType: 'image/png', data: TINY_PNG_BASE64 },
      { type: 'image', mimeType: 'image/png', data: TINY_PNG_BASE64 },
    ]);
    expect(content).toContainEqual({ type: 'text', text: "output 2 (text/plain):\n{'answer': 42}" });
    expect(content).toContainEqual({
      type: 'resource',
      resource: { uri: `loom://run/${out.traceId}/outputs/note.txt`, mimeType: 'text/plain', text: 'hello artifact' },
    });
    const listing = content.find((c) => c.type === 'text' && c.text.startsWith('artifacts:'));
    expect(listing).toMatchObject({ text: expect.stringMatching(/outputs\/big\.bin \(2 MiB, application\/octet-stream\): not included/) });
    // The history keeps the bytes the result carried, and the note for the others.
    const history = new RunHistory(join(home, 'history.sqlite'));
    try {
      const run = await waitFor('the run in the history', async () => history.list().map((r) => history.get(r.id)).find((r) => r?.response?.traceId === out.traceId && r.status === 'ok') ?? undefined);
      expect(run.artifacts).toEqual([
        expect.objectContaining({ path: 'outputs/big.bin', note: expect.stringMatching(/not included/) }),
        expect.objectContaining({ path: 'outputs/note.txt', data: Buffer.from('hello artifact').toString('base64') }),
        expect.objectContaining({ path: 'outputs/x.png', data: TINY_PNG_BASE64 }),
      ]);
    } finally {
      history.close();
    }
  });

  it('collects artifacts only when asked or when the code names the output directory', async () => {
    const write = 'import os\nd = "/tmp/out" + "puts"\nos.makedirs(d)\nopen(d + "/a.txt", "w").write("a")';
    expect(output(await client.callTool({ name: 'execute_code', arguments: { language: 'python', code: write } })).artifacts).toEqual([]);
    const asked = await client.callTool({ name: 'execute_code', arguments: { language: 'python', code: write, collect_artifacts: true } });
    expect(output(asked).artifacts.map((a) => a.path)).toEqual(['outputs/a.txt']);
  });

  it('gives isError for a failing program and for a timeout', async () => {
    const failing = await client.callTool({ name: 'execute_code', arguments: { language: 'python', code: 'import sys\nprint("oops", file=sys.stderr)\nsys.exit(3)' } });
    expect(failing.isError).toBe(true);
    expect(output(failing)).toMatchObject({ exitCode: 3, stderr: 'oops\n', timedOut: false });
    const slow = await client.callTool({ name: 'execute_code', arguments: { language: 'python', code: 'import time\ntime.sleep(30)', timeout_seconds: 1 } });
    expect(slow.isError).toBe(true);
    expect(output(slow).timedOut).toBe(true);
  });

  it('answers a bad argument with a protocol error (InvalidParams) that names it', async () => {
    const bad = client.callTool({ name: 'execute_code', arguments: { language: 'cobol', code: 'DISPLAY 1' } });
    await expect(bad).rejects.toBeInstanceOf(McpError);
    await expect(bad).rejects.toMatchObject({ code: ErrorCode.InvalidParams, message: expect.stringContaining('language') });
    await expect(client.callTool({ name: 'execute_code', arguments: { language: 'python', code: '1', timeout_seconds: 0 } })).rejects.toMatchObject({
      code: ErrorCode.InvalidParams,
      message: expect.stringContaining('timeout_seconds'),
    });
    // No --allow-network: asking for the internet is refused, not silently ignored.
    await expect(client.callTool({ name: 'execute_code', arguments: { language: 'python', code: '1', network: 'bridge' } })).rejects.toMatchObject({
      message: expect.stringContaining('network'),
    });
    await expect(client.callTool({ name: 'execute_code', arguments: { language: 'python', code: '1', files: [{ path: '../etc/x', content: '' }] } })).rejects.toMatchObject({
      message: expect.stringContaining('files.0.path'),
    });
  });

  it("joins the caller's trace from params._meta.traceparent, and records the call in the history with its span", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    const result = await client.callTool({
      name: 'execute_code',
      arguments: { language: 'python', code: 'print("traced")' },
      _meta: { traceparent: `00-${traceId}-${callerSpan}-01` },
    });
    expect(output(result).traceId).toBe(traceId);
    const history = new RunHistory(join(home, 'history.sqlite'));
    try {
      const run = await waitFor('the run in the history', async () =>
        history
          .list()
          .map((s) => history.get(s.id))
          .find((r) => r?.response?.traceId === traceId && r.status === 'ok') ?? undefined,
      );
      expect(run.title).toBe('MCP: print("traced")');
      const spans = run.response?.spans ?? [];
      const call = spans.find((s) => s.name === 'tools/call execute_code');
      expect(call).toMatchObject({ traceId, parentSpanId: callerSpan });
      expect(call?.attributes).toMatchObject({ 'gen_ai.tool.name': 'execute_code', 'mcp.method.name': 'tools/call' });
      expect(spans.find((s) => s.name === 'docker.execute')).toMatchObject({ traceId, parentSpanId: call?.spanId });
    } finally {
      history.close();
    }
  });
}

describe('loom mcp over stdio', () => {
  let transport: StdioClientTransport | undefined;
  transportSuite(
    async () => {
      const c = await stdioClient(home);
      transport = c.transport;
      return c.client;
    },
    async (client) => {
      const pid = transport?.pid;
      await client.close();
      // Closing stdin stops the server, which removes the containers it made.
      if (pid) await waitFor('no container of the stopped loom mcp', async () => (await listManaged(docker)).every((c) => c.ownerPid !== pid), 60_000);
    },
  );

  it('--print-config prints an entry that launches a working server as is', async () => {
    const child = spawn(process.execPath, [BIN, 'mcp', '--print-config'], { env: env() });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    await new Promise((done) => child.on('exit', done));
    const config = JSON.parse(out) as { mcpServers: { loom: { command: string; args: string[] } } };
    const { command, args } = config.mcpServers.loom;
    expect(command).toBe(process.execPath);
    expect(args[0]).toBe(BIN);
    const client = new Client({ name: 'config-test', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ command, args, env: env() }));
    const result = await client.callTool({ name: 'execute_code', arguments: { language: 'node', code: 'console.log(1 + 1)' } });
    expect(output(result).stdout).toBe('2\n');
    await client.close();
  });
});

function raw(server: HttpServer, headers: Record<string, string>): Promise<number> {
  return new Promise((done, fail) => {
    const req = httpRequest(server.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } }, (res) => {
      res.resume();
      done(res.statusCode ?? 0);
    });
    req.on('error', fail);
    req.end(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }));
  });
}

describe('loom mcp --http', () => {
  let server: HttpServer;
  beforeAll(async () => {
    server = await startHttpServer(home);
  });
  afterAll(async () => {
    server?.child.kill('SIGINT');
    await new Promise((done) => server?.child.on('exit', done));
    await waitFor('no container of the stopped loom mcp', async () => (await listManaged(docker)).every((c) => c.ownerPid !== server.child.pid), 60_000);
  });

  const connect = async (): Promise<Client> => (await httpClient(server)).client;

  describe('with the token', () => {
    transportSuite(connect, (client) => client.close());
  });

  it('refuses a missing or wrong token, a foreign Origin and a foreign Host', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    expect(await raw(server, {})).toBe(401);
    expect(await raw(server, { authorization: 'Bearer nope' })).toBe(401);
    const auth = { authorization: `Bearer ${server.token}` };
    expect(await raw(server, { ...auth, origin: 'http://evil.example' })).toBe(403);
    expect(await raw(server, { ...auth, host: `evil.example:${server.port}` })).toBe(403);
    expect(await raw(server, { ...auth, origin: `http://127.0.0.1:${server.port}` })).toBe(200);
  });

  it('keeps two clients in two sessions', async () => {
    const [a, b] = await Promise.all([connect(), connect()]);
    const [ra, rb] = await Promise.all([
      a.callTool({ name: 'execute_code', arguments: { language: 'python', code: 'print("a")' } }),
      b.callTool({ name: 'execute_code', arguments: { language: 'python', code: 'print("b")' } }),
    ]);
    expect([output(ra).stdout, output(rb).stdout]).toEqual(['a\n', 'b\n']);
    await Promise.all([a.close(), b.close()]);
  });
});

/** `loom mcp` with its arguments, to its exit: for the cases that never start a server. */
async function runMcp(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, 'mcp', ...args], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((done) => child.on('exit', done));
  return { code, stdout, stderr };
}

type InputSchema = { properties?: Record<string, { enum?: string[] }> };
const isolationEnum = (tools: { name: string; inputSchema: unknown }[], name: string): string[] | undefined =>
  (tools.find((t) => t.name === name)?.inputSchema as InputSchema | undefined)?.properties?.['isolation']?.enum;

describe('loom mcp --isolation', () => {
  it('refuses a level it does not know, naming --isolation and the levels, on stdio and --http alike', async () => {
    for (const args of [['--isolation', 'kata'], ['--http', '--port', '0', '--isolation', 'GVISOR']]) {
      const { code, stderr } = await runMcp(args);
      expect([code, stderr], args.join(' ')).toEqual([2, expect.stringContaining(`--isolation must be one of runc, gvisor, got '${args.at(-1)}'`)]);
    }
    const { code, stderr } = await runMcp(['--serve', 'x', '--isolation', 'gvisor']);
    expect([code, stderr]).toEqual([2, expect.stringContaining('--isolation is for Loom\'s own tools')]);
  });

  it('--print-config keeps --isolation gvisor in the args (runc, the default, adds nothing)', async () => {
    const args = async (flags: string[]) => (JSON.parse((await runMcp(['--print-config', ...flags])).stdout) as { mcpServers: { loom: { args: string[] } } }).mcpServers.loom.args;
    expect((await args(['--allow-network', '--isolation', 'gvisor'])).slice(1)).toEqual(['mcp', '--allow-network', '--isolation', 'gvisor']);
    expect((await args(['--isolation', 'runc'])).slice(1)).toEqual(['mcp']);
  });

  describe('a runc server (the default floor)', () => {
    let client: Client;
    let transport: StdioClientTransport | undefined;
    beforeAll(async () => {
      ({ client, transport } = await stdioClient(home));
    });
    afterAll(async () => {
      const pid = transport?.pid;
      await client?.close();
      if (pid) await waitFor('no container of the stopped loom mcp', async () => (await listManaged(docker)).every((c) => c.ownerPid !== pid), 60_000);
    });

    it('offers runc and gvisor, runs under runc by default and under gVisor when a call asks for it', async () => {
      const { tools } = await client.listTools();
      expect(isolationEnum(tools, 'execute_code')).toEqual(['runc', 'gvisor']);
      expect(isolationEnum(tools, 'create_session')).toEqual(['runc', 'gvisor']);
      await expect(client.callTool({ name: 'execute_code', arguments: { language: 'python', code: '1', isolation: 'kata' } })).rejects.toMatchObject({
        code: ErrorCode.InvalidParams,
        message: expect.stringContaining('isolation: expected one of "runc", "gvisor"'),
      });
      const plain = output(await client.callTool({ name: 'execute_code', arguments: { language: 'python', code: KERNEL_PROBE } }));
      const runc = output(await client.callTool({ name: 'execute_code', arguments: { language: 'python', code: KERNEL_PROBE, isolation: 'runc' } }));
      const gvisor = output(await client.callTool({ name: 'execute_code', arguments: { language: 'python', code: KERNEL_PROBE, isolation: 'gvisor' } }));
      // runc: the host's kernel, whose log nobody may read; gVisor: its own kernel and log.
      for (const run of [plain, runc]) expect([run.exitCode, run.stdout], run.stderr).toEqual([0, `${release()}\ndmesg: read kernel buffer failed: Operation not permitted\n\n`]);
      expect(gvisor.exitCode, gvisor.stderr).toBe(0);
      expect(gvisor.stdout).toMatch(/^4\.4\.0\n\[ +0\.0+\] Starting gVisor\.\.\./);
      // Not shared: the gVisor container is one of its own, beside the runc one.
      const mine = (await listManaged(docker)).filter((c) => c.ownerPid === transport?.pid);
      const runtimes = await Promise.all(mine.map(async (c) => (await docker.getContainer(c.id).inspect()).HostConfig.Runtime));
      expect(new Set(runtimes)).toEqual(new Set(['runc', 'runsc']));
    }, 120_000);
  });

  describe('a gVisor server (--http --isolation gvisor)', () => {
    let server: HttpServer;
    let client: Client;
    beforeAll(async () => {
      server = await startHttpServer(home, ['--isolation', 'gvisor']);
      client = (await httpClient(server)).client;
    });
    afterAll(async () => {
      await client?.close();
      server?.child.kill('SIGINT');
      await new Promise((done) => server?.child.on('exit', done));
      await waitFor('no container of the stopped loom mcp', async () => (await listManaged(docker)).every((c) => c.ownerPid !== server.child.pid), 60_000);
    });

    it('offers gvisor alone, runs every call under gVisor, and refuses runc naming isolation', async () => {
      const { tools } = await client.listTools();
      expect(isolationEnum(tools, 'execute_code')).toEqual(['gvisor']);
      expect(isolationEnum(tools, 'create_session')).toEqual(['gvisor']);
      expect(tools.find((t) => t.name === 'execute_code')?.description).toContain("under gVisor's user-space kernel (this server's floor)");
      const run = output(await client.callTool({ name: 'execute_code', arguments: { language: 'python', code: KERNEL_PROBE } }));
      expect(run.exitCode, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/^4\.4\.0\n\[ +0\.0+\] Starting gVisor\.\.\./);
      for (const [name, args] of [
        ['execute_code', { language: 'python', code: '1', isolation: 'runc' }],
        ['create_session', { language: 'python', isolation: 'runc' }],
      ] as const) {
        await expect(client.callTool({ name, arguments: args })).rejects.toMatchObject({
          code: ErrorCode.InvalidParams,
          message: expect.stringContaining('isolation: expected "gvisor": this server\'s floor is gvisor (loom mcp --isolation gvisor), and a call may not ask for less'),
        });
      }
    }, 120_000);
  });
});
