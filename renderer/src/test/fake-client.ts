// A LoomClient for tests: records calls, lets the test emit events and decide replies.
import type {
  CollectorTarget,
  EngineStatus,
  Example,
  HostedServerInfo,
  HostedServersView,
  HostedToolInfo,
  HostedToolResult,
  LoomClient,
  LoomEvent,
  PoolContainer,
  ReceiverStatus,
  RunRecord,
  RunSummary,
  TraceHead,
  TraceRecord,
  TraceSummary,
} from '../../../shared/api';
import { buildSpanTree, flattenTree } from '../../../shared/span-tree';
import { toViewSpan } from '../../../shared/traces/view-span';
import type { ExecuteRequestJson } from '../../../shared/gen/loom/v1/docker_pb';
import type { McpServerConfigJson } from '../../../shared/gen/loom/v1/mcp_pb';

export class FakeClient implements LoomClient {
  readonly listeners = new Set<(event: LoomEvent) => void>();
  readonly started: ExecuteRequestJson[] = [];
  readonly startedIds: string[] = [];
  readonly cancelled: string[] = [];
  readonly deleted: string[] = [];
  /** The ids getRun was asked for. */
  readonly fetched: string[] = [];
  records = new Map<string, RunRecord>();
  runs: RunSummary[] = [];
  examples: Example[] = [];
  containers: PoolContainer[] = [];
  status: EngineStatus = { ok: true, address: 'unix:///var/run/docker.sock', version: '20.10.24', apiVersion: '1.41' };
  /** Called inside startRun before it answers: a test can emit "early" events from here. */
  beforeStartReply: ((runId: string) => void) | undefined;
  startError: Error | undefined;

  emit(event: LoomEvent): void {
    for (const l of this.listeners) l(event);
  }

  onEvent(listener: (event: LoomEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async engineStatus(): Promise<EngineStatus> {
    return this.status;
  }
  async startRun(runId: string, request: ExecuteRequestJson): Promise<RunSummary> {
    this.startedIds.push(runId);
    if (this.startError) throw this.startError;
    this.started.push(request);
    this.beforeStartReply?.(runId);
    return { id: runId, startedAt: Date.now(), status: 'running', runtime: 'python', title: 'the engine’s title' };
  }
  async cancelRun(runId: string): Promise<void> {
    this.cancelled.push(runId);
  }
  async listContainers(): Promise<PoolContainer[]> {
    return this.containers;
  }
  readonly removed: string[] = [];
  readonly rotated: string[] = [];
  readonly prewarmed: { request: ExecuteRequestJson; count: number }[] = [];
  async prewarm(request: ExecuteRequestJson, count: number): Promise<void> {
    this.prewarmed.push({ request, count });
  }
  async removeContainer(id: string): Promise<void> {
    this.removed.push(id);
  }
  async rotateContainer(id: string): Promise<void> {
    this.rotated.push(id);
  }
  async pruneContainers(): Promise<{ removed: number }> {
    return { removed: 0 };
  }
  async listRuns(): Promise<RunSummary[]> {
    return this.runs;
  }
  async getRun(id: string): Promise<RunRecord | null> {
    this.fetched.push(id);
    return this.records.get(id) ?? null;
  }
  async deleteRun(id: string): Promise<void> {
    this.deleted.push(id);
  }
  async listExamples(): Promise<Example[]> {
    return this.examples;
  }
  traces = new Map<string, TraceRecord>();
  async listTraces(): Promise<TraceSummary[]> {
    return [...this.traces.values()].map((t) => t.summary);
  }
  async getTrace(traceId: string): Promise<TraceRecord | null> {
    return this.traces.get(traceId) ?? null;
  }
  /** The heads asked for, as [traceId, limit]. */
  readonly headsFetched: [string, number][] = [];
  async getTraceHead(traceId: string, limit: number): Promise<TraceHead | null> {
    this.headsFetched.push([traceId, limit]);
    const record = this.traces.get(traceId);
    if (!record) return null;
    // As the store answers: the display order of the whole trace, cut at the limit.
    const byId = new Map(record.spans.map((s) => [s.spanId, s]));
    const order = flattenTree(buildSpanTree(record.spans.map(toViewSpan))).map((r) => r.span.spanId);
    const starts = record.spans.map((s) => BigInt(s.startTimeUnixNano)).filter((n) => n > 0n);
    const ends = record.spans.map((s) => BigInt(s.endTimeUnixNano));
    const start = starts.reduce((a, b) => (b < a ? b : a), starts[0] ?? 0n);
    const end = ends.reduce((a, b) => (b > a ? b : a), 0n);
    return {
      summary: record.summary,
      spans: order.slice(0, limit).flatMap((id) => byId.get(id) ?? []),
      startTimeUnixNano: start.toString(),
      endTimeUnixNano: (end < start ? start : end).toString(),
    };
  }
  async deleteTrace(traceId: string): Promise<void> {
    this.traces.delete(traceId);
  }
  async importTraces(): Promise<{ traceIds: string[]; spans: number }> {
    return { traceIds: [], spans: 0 };
  }
  async exportTrace(): Promise<string> {
    return '{"resourceSpans":[]}';
  }
  async traceReceiverStatus(): Promise<ReceiverStatus> {
    return { enabled: false, listening: false, acceptedSpans: 0, rejectedSpans: 0, malformedRequests: 0, refusedRequests: 0 };
  }
  async traceCollector(): Promise<CollectorTarget | null> {
    return null;
  }
  async sendTraceToCollector(): Promise<CollectorTarget> {
    throw new Error('no collector');
  }
  // Sessions: the views that use them are tested against the real host (e2e/session.spec.ts).
  createSession = notFaked;
  listSessions = async (): Promise<never[]> => [];
  runCell = notFaked;
  interruptSession = notFaked;
  restartSession = notFaked;
  closeSession = notFaked;
  listSessionFiles = async (): Promise<never[]> => [];
  readSessionFile = notFaked;
  writeSessionFile = notFaked;
  deleteSessionFile = notFaked;

  // Hosted MCP servers: a list the test sets, and the calls it can check.
  hosted: HostedServersView = { file: '/home/u/.loom/mcp-servers.json', servers: [], calls: [] };
  readonly hostedAdded: McpServerConfigJson[] = [];
  readonly hostedRemoved: string[] = [];
  readonly hostedCalls: { server: string; tool: string; args: Record<string, unknown> }[] = [];
  hostedTools: HostedToolInfo[] = [];
  hostedResult: HostedToolResult = { content: [{ type: 'text', text: 'Echo: hi' }], isError: false, durationMs: 3, traceId: 'a'.repeat(32) };
  async listHostedServers(): Promise<HostedServersView> {
    return this.hosted;
  }
  async addHostedServer(config: McpServerConfigJson): Promise<HostedServerInfo> {
    this.hostedAdded.push(config);
    const info: HostedServerInfo = { name: config.name ?? '', config, image: config.image ?? '', command: config.command ?? [], network: 'none', idleTtlSeconds: 600, sessions: [], tools: [] };
    this.hosted = { ...this.hosted, servers: [...this.hosted.servers, info] };
    return info;
  }
  async removeHostedServer(name: string): Promise<void> {
    this.hostedRemoved.push(name);
    this.hosted = { ...this.hosted, servers: this.hosted.servers.filter((s) => s.name !== name) };
  }
  async listHostedTools(): Promise<HostedToolInfo[]> {
    return this.hostedTools;
  }
  async callHostedTool(server: string, tool: string, args: Record<string, unknown>): Promise<HostedToolResult> {
    this.hostedCalls.push({ server, tool, args });
    return this.hostedResult;
  }
}

async function notFaked(): Promise<never> {
  throw new Error('not faked: sessions are tested against the real host');
}
