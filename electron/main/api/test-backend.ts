// A LoomBackend for the transport tests: answers from fixed data, records calls, throws the
// engine's own errors on demand, and lets a test push events. Not a mock of the transport: the
// tests drive the real dispatch, web host and clients through it.
import type { EngineStatus, LoomEvent, RunSummary } from '../../../shared/api';
import { ValidationError } from '../engine/errors';
import type { LoomBackend } from './backend';

export interface TestBackend extends LoomBackend {
  calls: { method: string; args: unknown[] }[];
  emit(event: LoomEvent): void;
  listenerCount(): number;
}

export const TEST_STATUS: EngineStatus = { ok: true, address: 'unix:///test.sock', version: '99.0', apiVersion: '1.41' };

export const TEST_RUN: RunSummary = { id: 'run-1', startedAt: 1_700_000_000_000, status: 'running', runtime: 'python', title: 'print(1)' };

export function createTestBackend(): TestBackend {
  const listeners = new Set<(event: LoomEvent) => void>();
  const calls: { method: string; args: unknown[] }[] = [];
  const record = (method: string, args: unknown[]) => void calls.push({ method, args });
  return {
    calls,
    emit: (event) => listeners.forEach((l) => l(event)),
    listenerCount: () => listeners.size,
    onEvent(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    async engineStatus() {
      record('engineStatus', []);
      return TEST_STATUS;
    },
    async startRun(runId, request) {
      record('startRun', [runId, request]);
      // As the engine does: int64 fields arrive as strings in proto3 JSON.
      if (Number(request.config?.resourceLimits?.memoryMb ?? 1) < 0) {
        throw new ValidationError('config.resource_limits.memory_mb', 'must be positive');
      }
      return { ...TEST_RUN, id: runId };
    },
    async cancelRun(runId) {
      record('cancelRun', [runId]);
    },
    async listContainers() {
      record('listContainers', []);
      return [];
    },
    async prewarm(request, count) {
      record('prewarm', [request, count]);
    },
    async removeContainer(id) {
      record('removeContainer', [id]);
      throw new Error(`no container ${id}`);
    },
    async rotateContainer(id) {
      record('rotateContainer', [id]);
    },
    async pruneContainers() {
      record('pruneContainers', []);
      return { removed: 2 };
    },
    async listRuns() {
      record('listRuns', []);
      return [TEST_RUN];
    },
    async getRun(id) {
      record('getRun', [id]);
      // Slow on purpose when asked for 'slow': lets tests hold calls in flight.
      if (id === 'slow') await new Promise((done) => setTimeout(done, 300));
      return null;
    },
    async deleteRun(id) {
      record('deleteRun', [id]);
    },
    async listExamples() {
      record('listExamples', []);
      return [];
    },
    async listTraces(query) {
      record('listTraces', [query]);
      return [];
    },
    async getTrace(traceId) {
      record('getTrace', [traceId]);
      return null;
    },
    async getTraceHead(traceId, limit) {
      record('getTraceHead', [traceId, limit]);
      return null;
    },
    async deleteTrace(traceId) {
      record('deleteTrace', [traceId]);
    },
    async importTraces(text) {
      record('importTraces', [text]);
      return { traceIds: [], spans: 0 };
    },
    async exportTrace(traceId) {
      record('exportTrace', [traceId]);
      return '{"resourceSpans":[]}';
    },
    async traceReceiverStatus() {
      record('traceReceiverStatus', []);
      return { enabled: false, listening: false, acceptedSpans: 0, rejectedSpans: 0, malformedRequests: 0, refusedRequests: 0 };
    },
    async traceCollector() {
      record('traceCollector', []);
      return null;
    },
    async sendTraceToCollector(traceId) {
      record('sendTraceToCollector', [traceId]);
      return { endpoint: 'http://127.0.0.1:1/v1/traces' };
    },
    async createSession(request) {
      record('createSession', [request]);
      return { id: '0123456789abcdef' };
    },
    async listSessions() {
      record('listSessions', []);
      return [];
    },
    async runCell(cellId, request) {
      record('runCell', [cellId, request]);
      return { exitCode: 0 };
    },
    async interruptSession(sessionId) {
      record('interruptSession', [sessionId]);
    },
    async restartSession(sessionId) {
      record('restartSession', [sessionId]);
      return { id: sessionId };
    },
    async closeSession(sessionId) {
      record('closeSession', [sessionId]);
    },
    async listSessionFiles(sessionId, path) {
      record('listSessionFiles', [sessionId, path]);
      return [];
    },
    async readSessionFile(sessionId, path) {
      record('readSessionFile', [sessionId, path]);
      return { entry: { path }, data: '' };
    },
    async writeSessionFile(sessionId, path, data) {
      record('writeSessionFile', [sessionId, path, data]);
      return { path };
    },
    async deleteSessionFile(sessionId, path) {
      record('deleteSessionFile', [sessionId, path]);
    },
    async listHostedServers() {
      record('listHostedServers', []);
      return { file: '/test/mcp-servers.json', servers: [], calls: [] };
    },
    async addHostedServer(config) {
      record('addHostedServer', [config]);
      return { name: config.name ?? '', config, image: config.image ?? '', command: config.command ?? [], network: 'none', idleTtlSeconds: 600, sessions: [], tools: [] };
    },
    async removeHostedServer(name) {
      record('removeHostedServer', [name]);
    },
    async listHostedTools(server) {
      record('listHostedTools', [server]);
      return [{ name: 'echo', inputSchema: { type: 'object' } }];
    },
    async callHostedTool(server, tool, args) {
      record('callHostedTool', [server, tool, args]);
      return { content: [{ type: 'text', text: 'Echo: hi' }], isError: false, durationMs: 1, traceId: '0'.repeat(31) + '1' };
    },
  };
}
