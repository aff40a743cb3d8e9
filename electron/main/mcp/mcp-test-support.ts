// Helpers for the tests that drive the real `loom mcp` (node bin/loom.js mcp) with the MCP SDK's
// own Client, over stdio and streamable HTTP. Not shipped.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sessionNamePrefix } from '../engine/session/session-names';
import { docker } from '../engine/testing/test-support';
import type { ExecuteCodeOutput } from './tools';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const BIN = join(ROOT, 'bin', 'loom.js');

/** A 1x1 PNG (valid: every chunk's CRC checks), for image outputs and artifacts. */
export const TINY_PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

export const envWithHome = (home: string): Record<string, string> => ({ ...(process.env as Record<string, string>), LOOM_HOME: home });

/** `args`: more options of `loom mcp` (e.g. --isolation gvisor). */
export async function stdioClient(home: string, args: string[] = []): Promise<{ client: Client; transport: StdioClientTransport }> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp', ...args], env: envWithHome(home), stderr: 'pipe' });
  const client = new Client({ name: 'loom-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}

export interface HttpServer {
  child: ChildProcess;
  url: string;
  token: string;
  port: number;
}

export async function startHttpServer(home: string, args: string[] = []): Promise<HttpServer> {
  const child = spawn(process.execPath, [BIN, 'mcp', '--http', '--port', '0', ...args], { env: envWithHome(home), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const lines = await new Promise<string[]>((done, fail) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const got = out.split('\n');
      if (got.length >= 3) done(got);
    });
    child.on('exit', (code) => fail(new Error(`loom mcp --http exited with ${code}`)));
  });
  const url = lines[0] ?? '';
  const token = (lines[1] ?? '').replace('Authorization: Bearer ', '');
  return { child, url, token, port: Number(new URL(url).port) };
}

export async function httpClient(server: HttpServer): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(server.url), { requestInit: { headers: { Authorization: `Bearer ${server.token}` } } });
  const client = new Client({ name: 'loom-test-http', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}

export const output = (result: unknown): ExecuteCodeOutput => (result as CallToolResult).structuredContent as ExecuteCodeOutput;

/**
 * Python that prints the kernel a program sees and what dmesg says: under gVisor the release is
 * gVisor's (4.4.0) and dmesg is its own ("Starting gVisor..."); under runc the host's release,
 * and dmesg is denied to nobody.
 */
export const KERNEL_PROBE = [
  'import os, subprocess',
  'print(os.uname().release)',
  'r = subprocess.run(["dmesg"], capture_output=True, text=True)',
  'print(r.stdout[:300] or r.stderr[:300])',
].join('\n');

/** Whether a session's container still exists on the engine. */
export async function sessionContainerExists(sessionId: string): Promise<boolean> {
  return (await docker.listContainers({ all: true, filters: { name: [sessionNamePrefix(sessionId)] } })).length > 0;
}
