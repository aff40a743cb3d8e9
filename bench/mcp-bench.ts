// The MCP figures of `npm run bench` (issue 15): execute_code hello through `loom mcp` over stdio,
// warm, next to the engine's warm p50 of the same run; and 50 concurrent MCP client sessions
// against `loom mcp --http`, every result checked, no container left once it stops.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type Docker from 'dockerode';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { listManaged } from '../electron/main/engine/pool/containers';

const BIN = fileURLToPath(new URL('../bin/loom.js', import.meta.url));
const HELLO = { language: 'python', code: "print('hello')" };

interface ExecuteOutput {
  exitCode: number;
  stdout: string;
}

async function callHello(client: Client, code = HELLO.code): Promise<ExecuteOutput> {
  const result = await client.callTool({ name: 'execute_code', arguments: { ...HELLO, code } });
  return result.structuredContent as unknown as ExecuteOutput;
}

/** Warm execute_code hello latencies (ms) through one `loom mcp` stdio process; wrong outputs counted. */
export async function measureMcpStdio(n: number, warmup = 10): Promise<{ samples: number[]; wrong: number }> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp'], stderr: 'ignore' });
  const client = new Client({ name: 'loom-bench', version: '1' });
  await client.connect(transport);
  const samples: number[] = [];
  let wrong = 0;
  try {
    for (let i = 0; i < warmup; i++) await callHello(client);
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      const out = await callHello(client);
      samples.push(performance.now() - t);
      if (out.exitCode !== 0 || out.stdout !== 'hello\n') wrong++;
    }
  } finally {
    await client.close();
  }
  return { samples, wrong };
}

export interface McpHttpFigures {
  sessions: number;
  matched: number;
  wallMs: number;
  /** Containers owned by the stopped `loom mcp` process, counted after it exits. */
  containersLeft: number;
}

/** `sessions` clients at once against one `loom mcp --http`, each running a program that prints its own number. */
export async function measureMcpHttp(docker: Docker, sessions: number): Promise<McpHttpFigures> {
  const child = spawn(process.execPath, [BIN, 'mcp', '--http', '--port', '0'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  let out = '';
  const [url, auth] = await new Promise<string[]>((done, fail) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const lines = out.split('\n');
      if (lines.length >= 3) done(lines);
    });
    child.once('exit', (code) => fail(new Error(`loom mcp --http exited with ${code}`)));
  });
  const headers = { Authorization: (auth ?? '').replace('Authorization: ', '') };
  const started = performance.now();
  let matched = 0;
  try {
    await Promise.all(
      Array.from({ length: sessions }, async (_, i) => {
        const transport = new StreamableHTTPClientTransport(new URL(url ?? ''), { requestInit: { headers } });
        const client = new Client({ name: `loom-bench-${i}`, version: '1' });
        await client.connect(transport);
        try {
          const result = await callHello(client, `print(${i})`);
          if (result.exitCode === 0 && result.stdout === `${i}\n`) matched++;
        } finally {
          await transport.terminateSession().catch(() => undefined);
          await client.close();
        }
      }),
    );
  } finally {
    child.kill('SIGINT');
    await exited;
  }
  const wallMs = performance.now() - started;
  const containersLeft = (await listManaged(docker)).filter((c) => c.ownerPid === child.pid).length;
  return { sessions, matched, wallMs, containersLeft };
}
