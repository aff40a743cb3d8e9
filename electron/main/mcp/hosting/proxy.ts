// What a client of a hosted server talks to: an MCP server whose tools are the hosted server's,
// each call forwarded to the session's container (see manager.ts). Errors of the hosted server
// reach the client as they were (a protocol error stays one, with its code).
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { traceparentOf } from '../trace-context';
import type { HostedSession } from './manager';

export function createProxyServer(session: HostedSession, version: string): Server {
  const server = new Server(
    { name: `loom/${session.spec.name}`, title: `${session.spec.name} (hosted in a Loom sandbox)`, version },
    { capabilities: { tools: {} } },
  );
  server.setRequestHandler(ListToolsRequestSchema, (request) => session.listTools(request.params));
  server.setRequestHandler(CallToolRequestSchema, (request) => session.callTool(request.params, traceparentOf(request.params._meta)));
  return server;
}
