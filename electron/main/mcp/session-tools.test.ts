// Sessions through `loom mcp` as an agent uses them: the real command with the real engine,
// driven by the MCP SDK's Client over stdio and streamable HTTP. State across execute_code
// calls, files in and out, rich outputs, the cell's span under the call's, one client's
// sessions hidden from another, and nothing left once a client goes.
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ErrorCode, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunHistory } from '../app/history';
import { requireEngineAndImages, waitFor } from '../engine/testing/test-support';
import { httpClient, KERNEL_PROBE, output, sessionContainerExists, startHttpServer, stdioClient, TINY_PNG_BASE64, type HttpServer } from './mcp-test-support';

let home = '';

beforeAll(async () => {
  await requireEngineAndImages();
  home = await mkdtemp(join(tmpdir(), 'loom-mcp-sessions-'));
});

afterAll(async () => {
  if (home) await rm(home, { recursive: true, force: true });
});

const structured = <T>(result: unknown): T => (result as CallToolResult).structuredContent as T;
const contentOf = (result: unknown): CallToolResult['content'] => (result as CallToolResult).content;

async function newSession(client: Client, language = 'python'): Promise<string> {
  const result = await client.callTool({ name: 'create_session', arguments: { language } });
  expect(result.isError).toBeFalsy();
  return structured<{ session: { id: string } }>(result).session.id;
}

const cell = (client: Client, sessionId: string, code: string, language = 'python') =>
  client.callTool({ name: 'execute_code', arguments: { language, code, session_id: sessionId } });

/** The cases both transports must pass. */
function sessionSuite(connect: () => Promise<Client>, close: (client: Client) => Promise<void>): void {
  let client: Client;
  let id = '';
  beforeAll(async () => {
    client = await connect();
    id = await newSession(client);
  });
  afterAll(async () => {
    if (client) await close(client);
  });

  it('keeps a variable from one execute_code call to the next, and shows a final expression', async () => {
    const first = await cell(client, id, 'x = 41\nprint("defined")');
    expect(first.isError).toBe(false);
    expect(output(first)).toMatchObject({ exitCode: 0, stdout: 'defined\n', cell: { sessionId: id, status: 'ok' } });
    const second = await cell(client, id, 'x + 1');
    expect(output(second).outputs).toEqual([{ items: [{ mimeType: 'text/plain', sizeBytes: 2, text: '42' }] }]);
    expect(output(second).cell?.executionCount).toBe(2);
    expect(contentOf(second)).toContainEqual({ type: 'text', text: 'output 1 (text/plain):\n42' });
    const failing = await cell(client, id, '1 / 0');
    expect(failing.isError).toBe(true);
    expect(output(failing)).toMatchObject({ exitCode: 1, cell: { status: 'error' } });
    expect(output(failing).stderr).toContain('ZeroDivisionError');
  });

  it('writes, lists, reads and deletes files that code in the session sees', async () => {
    const written = await client.callTool({ name: 'write_file', arguments: { session_id: id, path: 'data/in.csv', content: 'a,b\n1,2\n' } });
    expect(structured<{ file: { path: string; sizeBytes: number } }>(written).file).toMatchObject({ path: 'data/in.csv', sizeBytes: 8 });
    const read = await cell(client, id, 'import csv\nrows = list(csv.reader(open("data/in.csv")))\nprint(rows[1])\nopen("data/out.bin", "wb").write(bytes([0, 255]))');
    expect(output(read).stdout).toBe("['1', '2']\n");
    const listed = structured<{ files: { path: string; sizeBytes: number; isDir: boolean }[] }>(await client.callTool({ name: 'list_files', arguments: { session_id: id, dir: 'data' } }));
    expect(listed.files.filter((f) => !f.isDir).map((f) => [f.path, f.sizeBytes])).toEqual([
      ['data/in.csv', 8],
      ['data/out.bin', 2],
    ]);
    expect(structured(await client.callTool({ name: 'read_file', arguments: { session_id: id, path: 'data/in.csv' } }))).toMatchObject({ encoding: 'utf8', content: 'a,b\n1,2\n' });
    expect(structured(await client.callTool({ name: 'read_file', arguments: { session_id: id, path: 'data/out.bin' } }))).toMatchObject({ encoding: 'base64', content: 'AP8=' });
    await client.callTool({ name: 'delete_file', arguments: { session_id: id, path: 'data/out.bin' } });
    const after = structured<{ files: { path: string }[] }>(await client.callTool({ name: 'list_files', arguments: { session_id: id } }));
    expect(after.files.map((f) => f.path)).not.toContain('data/out.bin');
    const missing = await client.callTool({ name: 'read_file', arguments: { session_id: id, path: 'data/out.bin' } });
    expect(missing.isError).toBe(true);
    expect(JSON.stringify(missing.content)).toContain('no such file');
    // Input files of execute_code land in the session and stay there.
    const withFile = await client.callTool({ name: 'execute_code', arguments: { language: 'python', code: 'print(open("given.txt").read())', session_id: id, files: [{ path: 'given.txt', content: 'given' }] } });
    expect(output(withFile).stdout).toBe('given\n');
    expect(output(await cell(client, id, 'print(open("given.txt").read())')).stdout).toBe('given\n');
  });

  it('returns display(...) as image content and a PNG written to /tmp/outputs as an artifact', async () => {
    const code = `import base64\npng = base64.b64decode("${TINY_PNG_BASE64}")\ndisplay(png)\nopen("/tmp/outputs/x.png", "wb").write(png)\nNone`;
    const result = await cell(client, id, code);
    expect(result.isError).toBe(false);
    const out = output(result);
    expect(out.outputs[0]?.items.map((i) => i.mimeType)).toEqual(['image/png', 'text/plain']);
    expect(out.artifacts).toEqual([{ path: 'outputs/x.png', mimeType: 'image/png', sizeBytes: 70, included: true }]);
    expect(contentOf(result).filter((c) => c.type === 'image')).toEqual([
      { type: 'image', mimeType: 'image/png', data: TINY_PNG_BASE64 },
      { type: 'image', mimeType: 'image/png', data: TINY_PNG_BASE64 },
    ]);
  });

  it("nests the cell's span under the tools/call span, in the caller's trace, and records the call in the history", async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const callerSpan = 'b7ad6b7169203331';
    const result = await client.callTool({
      name: 'execute_code',
      arguments: { language: 'python', code: 'print("cell traced")', session_id: id },
      _meta: { traceparent: `00-${traceId}-${callerSpan}-01` },
    });
    expect(output(result).traceId).toBe(traceId);
    const history = new RunHistory(join(home, 'history.sqlite'));
    try {
      const run = await waitFor('the cell in the history', async () =>
        history
          .list()
          .map((s) => history.get(s.id))
          .find((r) => r?.response?.traceId === traceId && r.status === 'ok') ?? undefined,
      );
      expect(run.title).toBe('MCP session: print("cell traced")');
      const spans = run.response?.spans ?? [];
      const call = spans.find((s) => s.name === 'tools/call execute_code');
      expect(call).toMatchObject({ traceId, parentSpanId: callerSpan });
      expect(call?.attributes).toMatchObject({ 'loom.session_id': id });
      const root = spans.find((s) => s.name === 'docker.execute');
      expect(root).toMatchObject({ traceId, parentSpanId: call?.spanId });
      expect(root?.attributes).toMatchObject({ 'loom.session_id': id });
    } finally {
      history.close();
    }
  });

  it('refuses a language the session does not run, per-call packages and isolation, and languages sessions do not support', async () => {
    await expect(cell(client, id, '1', 'node')).rejects.toMatchObject({ code: ErrorCode.InvalidParams, message: expect.stringMatching(/language: session \w+ runs python, not node/) });
    await expect(client.callTool({ name: 'execute_code', arguments: { language: 'python', code: '1', session_id: id, packages: ['requests'] } })).rejects.toMatchObject({
      code: ErrorCode.InvalidParams,
      message: expect.stringContaining('packages'),
    });
    // A session's isolation is create_session's: a cell asking for one is refused, not ignored.
    await expect(client.callTool({ name: 'execute_code', arguments: { language: 'python', code: '1', session_id: id, isolation: 'gvisor' } })).rejects.toMatchObject({
      code: ErrorCode.InvalidParams,
      message: expect.stringContaining("isolation: a session's isolation is set by create_session, not per call"),
    });
    await expect(client.callTool({ name: 'create_session', arguments: { language: 'ruby' } })).rejects.toMatchObject({
      code: ErrorCode.InvalidParams,
      message: expect.stringContaining('language: sessions support python and node'),
    });
  });

  it('restarts the interpreter (variables go, files stay), and after close_session a call says the session is gone', async () => {
    await cell(client, id, 'y = 1\nopen("kept.txt", "w").write("kept")');
    const restarted = await client.callTool({ name: 'restart_session', arguments: { session_id: id } });
    expect(structured<{ session: { executionCount: number } }>(restarted).session.executionCount).toBe(0);
    expect(output(await cell(client, id, 'y')).stderr).toContain('NameError');
    expect(output(await cell(client, id, 'print(open("kept.txt").read())')).stdout).toBe('kept\n');

    const node = await newSession(client, 'node');
    const listed = structured<{ sessions: { id: string; language: string }[] }>(await client.callTool({ name: 'list_sessions', arguments: {} }));
    expect(listed.sessions).toEqual(expect.arrayContaining([expect.objectContaining({ id, language: 'python' }), expect.objectContaining({ id: node, language: 'node' })]));
    expect(output(await cell(client, node, 'const v = await Promise.resolve(6); v * 7', 'node')).outputs[0]?.items[0]?.text).toBe('42');

    await client.callTool({ name: 'close_session', arguments: { session_id: node } });
    expect(await sessionContainerExists(node)).toBe(false);
    const gone = await cell(client, node, '1', 'node');
    expect(gone.isError).toBe(true);
    expect(output(gone).error).toMatch(/SessionNotFoundError: no session [0-9a-f]{16}: it does not exist, was closed/);
    const files = await client.callTool({ name: 'list_files', arguments: { session_id: node } });
    expect(files.isError).toBe(true);
    const after = structured<{ sessions: { id: string }[] }>(await client.callTool({ name: 'list_sessions', arguments: {} }));
    expect(after.sessions.map((s) => s.id)).not.toContain(node);
  });
}

describe('sessions through loom mcp over stdio', () => {
  let lastSession = '';
  sessionSuite(
    async () => (await stdioClient(home)).client,
    async (client) => {
      // The suite's python session is still open: closing stdin stops the server, which closes it.
      const listed = structured<{ sessions: { id: string }[] }>(await client.callTool({ name: 'list_sessions', arguments: {} }));
      lastSession = listed.sessions[0]?.id ?? '';
      expect(lastSession).toMatch(/^[0-9a-f]{16}$/);
      await client.close();
      await waitFor('the stdio client session container to go', async () => !(await sessionContainerExists(lastSession)), 60_000);
    },
  );
});

describe('sessions through loom mcp --http', () => {
  let server: HttpServer;
  beforeAll(async () => {
    server = await startHttpServer(home);
  });
  afterAll(async () => {
    server?.child.kill('SIGINT');
    await new Promise((done) => server?.child.on('exit', done));
  });

  describe('one client', () => {
    sessionSuite(
      async () => (await httpClient(server)).client,
      (client) => client.close(),
    );
  });

  it("keeps one client's sessions from another, and closes them when its MCP session ends", async () => {
    const a = await httpClient(server);
    const b = await httpClient(server);
    const id = await newSession(a.client);
    await cell(a.client, id, 'secret = 1');
    expect(structured<{ sessions: unknown[] }>(await b.client.callTool({ name: 'list_sessions', arguments: {} })).sessions).toEqual([]);
    const used = await cell(b.client, id, 'secret');
    expect(used.isError).toBe(true);
    expect(output(used).error).toMatch(/no session/);
    for (const [name, args] of [
      ['read_file', { session_id: id, path: 'x' }],
      ['write_file', { session_id: id, path: 'x', content: 'x' }],
      ['close_session', { session_id: id }],
    ] as const) {
      const refused = await b.client.callTool({ name, arguments: args });
      expect(refused.isError, name).toBe(true);
      expect(JSON.stringify(refused.content), name).toContain('no session');
    }
    // Still there for its owner.
    expect(output(await cell(a.client, id, 'secret + 1')).outputs[0]?.items[0]?.text).toBe('2');
    expect(await sessionContainerExists(id)).toBe(true);
    // Ending A's MCP session (HTTP DELETE) removes the sessions it created.
    await a.transport.terminateSession();
    await a.client.close();
    await waitFor('the session container of the ended MCP session to go', async () => !(await sessionContainerExists(id)), 60_000);
    await b.client.close();
  });
});

/** A session's kernel release and dmesg, as KERNEL_PROBE prints them in a cell. */
async function kernelOf(client: Client, sessionId: string): Promise<string> {
  const probe = output(await cell(client, sessionId, KERNEL_PROBE));
  expect(probe.exitCode, probe.stderr).toBe(0);
  return probe.stdout;
}

const GVISOR = /^4\.4\.0\n\[ +0\.0+\] Starting gVisor\.\.\./;

describe('sessions under gVisor', () => {
  it('on a runc server: create_session with isolation "gvisor" runs every cell under gVisor, a plain session under runc', async () => {
    const { client } = await stdioClient(home);
    try {
      const gvisor = structured<{ session: { id: string } }>(await client.callTool({ name: 'create_session', arguments: { language: 'python', isolation: 'gvisor' } })).session.id;
      const runc = await newSession(client);
      expect(await kernelOf(client, gvisor)).toMatch(GVISOR);
      // The next cell too: the session's container, not the call, holds the level.
      expect(output(await cell(client, gvisor, 'import os\nos.uname().release')).outputs[0]?.items[0]?.text).toBe("'4.4.0'");
      expect(await kernelOf(client, runc)).toBe(`${release()}\ndmesg: read kernel buffer failed: Operation not permitted\n\n`);
    } finally {
      await client.close();
    }
  }, 120_000);

  it('on a gVisor server (--isolation gvisor): a session is under gVisor without asking, and "runc" is refused naming isolation', async () => {
    const server = await startHttpServer(home, ['--isolation', 'gvisor']);
    try {
      const { client } = await httpClient(server);
      const id = await newSession(client, 'node');
      const probe = output(await cell(client, id, 'require("os").release()', 'node'));
      expect(probe.outputs[0]?.items[0]?.text, probe.stderr).toBe('4.4.0');
      await expect(client.callTool({ name: 'create_session', arguments: { language: 'python', isolation: 'runc' } })).rejects.toMatchObject({
        code: ErrorCode.InvalidParams,
        message: expect.stringContaining('isolation: expected "gvisor"'),
      });
      await client.close();
    } finally {
      server.child.kill('SIGINT');
      await new Promise((done) => server.child.on('exit', done));
    }
  }, 120_000);
});
