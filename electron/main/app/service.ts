// The LoomApi behind both transports (Electron IPC, the local web host): one executor, the run
// history, and the events the UI lives on. Everything crosses as JSON, so requests are decoded
// and checked here, and messages leave in their proto3 JSON form.
import { create, toJson } from '@bufbuild/protobuf';
import type Docker from 'dockerode';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import {
  serializeError,
  type EngineStatus,
  type LoomApi,
  type LoomEvent,
  type RunRecord,
  type RunSummary,
} from '../../../shared/api';
import {
  ExecuteEventSchema,
  ExecuteRequestSchema,
  ExecuteResponseSchema,
  Phase,
  type Artifact,
  type ExecuteEvent,
  type ExecuteRequest,
  type ExecuteResponse,
} from '../../../shared/gen/loom/v1/docker_pb';
import { pruneManaged, pruneVolumes, resolveRef } from '../engine/pool/containers';
import { connectDocker, pingEngine, resolveDockerHost } from '../engine/engine-client/docker-client';
import { AbortedError, ClosedError, ValidationError } from '../engine/errors';
import type { Executor, ExecutorOptions } from '../engine/executor';
import { normalizeRequest, requestPolicyOf } from '../engine/request/request';
import { EventBatcher, DEFAULT_BATCH_INTERVAL_MS } from './event-batcher';
import { executeEventJson, executeResponseJson } from './proto-json';
import { listExamples } from './examples';
import { DEFAULT_MAX_ARTIFACT_BYTES, RunHistory, type RunOutcome } from './history';
import { KnownConfigs } from './known-configs';
import { LazyExecutor } from './lazy-executor';
import { poolContainers } from './pool-view';
import { parseRequestJson } from './request-json';
import { runTitle } from './run-title';
import { checkTraceId, createTraceHub, type CollectorConfig } from '../traces/trace-hub';
import { MAX_TRACE_HEAD } from '../../../shared/traces/types';
import { checkTraceQuery } from '../traces/trace-query';
import type { OtlpReceiverOptions } from '../traces/otlp-receiver';
import type { TraceStoreOptions } from '../traces/trace-store';
import { sessionCalls } from './session-calls';
import { hostedCalls } from './hosted-calls';
import { SERVERS_FILE } from '../mcp/hosting/config';

export interface LoomServiceOptions {
  /** The SQLite file of the run history (created if missing). */
  historyPath: string;
  /**
   * The only place requests may take local package files (host paths in config.packages) from:
   * requests reach the service from a page, which must not name any file of the host. Created if
   * missing. Default: a `packages` folder beside the history file (the app's data directory).
   */
  packagesDir?: string;
  /** For createExecutor, made on first need (tests point it at another engine). */
  executor?: Omit<ExecutorOptions, 'localPackages'>;
  /** At most one output (or spans) event per stream and run per this interval. Default 30 ms. */
  eventIntervalMs?: number;
  /** Failures that reach no caller: a listener that throws, a history write that fails. */
  onError?: (err: unknown) => void;
  /** The trace store (in the history file), its OTLP receiver (off unless given) and collector. */
  traces?: {
    receiver?: false | Omit<OtlpReceiverOptions, 'onSpans'>;
    retention?: TraceStoreOptions;
    collector?: CollectorConfig;
  };
  /** Artifacts above this are kept in the history as a note, not their bytes. Default 4 MiB. */
  maxArtifactBytes?: number;
  /**
   * The MCP servers the window hosts: the servers file `loom mcp` reads (mcp/hosting/config.ts),
   * and the one place servers added in the window are kept. A file rather than the history's
   * SQLite: for `loom ui` it is $LOOM_HOME/mcp-servers.json, so a server declared in the window is
   * served by `loom mcp --http` too, with one format and one check for both, and it stays a file
   * a user can read, edit and keep in git. Default: mcp-servers.json beside the history file.
   */
  mcpServersPath?: string;
  /** Where hosted servers' secret values come from. Default: process.env. */
  mcpSecretsEnv?: Readonly<Record<string, string | undefined>>;
}

export interface LoomService extends LoomApi {
  onEvent(listener: (event: LoomEvent) => void): () => void;
  /** The executor behind the runs, for the `loom exec` processes this host serves (api/handoff-host.ts). */
  executor(): Promise<Executor>;
  /** Cancels running runs, removes this process's containers and closes the history. */
  close(): Promise<void>;
}

/** The status light must turn red quickly when the engine hangs, not after the usual 10 s. */
const STATUS_TIMEOUT_MS = 3_000;
/** prewarm's count; the pool itself stops at maxContainersPerKey. */
const MAX_PREWARM = 64;
/** A run id as crypto.randomUUID() makes it: the caller chooses it, so it knows its events from the first. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface ActiveRun {
  summary: RunSummary;
  controller: AbortController;
  done: Promise<void>;
}

export async function createLoomService(options: LoomServiceOptions): Promise<LoomService> {
  const packagesDir = resolve(options.packagesDir ?? join(dirname(options.historyPath), 'packages'));
  await mkdir(packagesDir, { recursive: true });
  const history = new RunHistory(options.historyPath);
  const maxArtifactBytes = options.maxArtifactBytes ?? DEFAULT_MAX_ARTIFACT_BYTES;
  const listeners = new Set<(event: LoomEvent) => void>();
  const onError = options.onError ?? options.executor?.onError ?? (() => undefined);
  const hub = await createTraceHub({
    path: options.historyPath,
    receiver: options.traces?.receiver,
    retention: options.traces?.retention,
    collector: options.traces?.collector,
    onChanged: (traceIds) => emit({ type: 'traces.changed', traceIds }),
    onError: (err) => onError(err),
  }).catch((err: unknown) => {
    history.close();
    throw err;
  });
  // Every run's trace goes to the store too, under the caller's trace when it gave a traceparent.
  const executorOptions: ExecutorOptions = {
    ...options.executor,
    localPackages: { dir: packagesDir },
    traceSinks: [...(options.executor?.traceSinks ?? []), hub.sink],
  };
  const executors = new LazyExecutor(executorOptions);
  // The same policy as the executor's: a bad request fails startRun, not the run.
  const policy = requestPolicyOf(executorOptions);
  const active = new Map<string, ActiveRun>();
  const known = new KnownConfigs();
  const hosted = await hostedCalls({
    path: resolve(options.mcpServersPath ?? join(dirname(options.historyPath), SERVERS_FILE)),
    open: () => open(),
    traceSink: hub.sink,
    emit: (event) => emit(event),
    onError: (err) => onError(err),
    env: options.mcpSecretsEnv,
  });
  let statusClient: { docker: Docker; address: string } | undefined;
  let closing: Promise<void> | undefined;

  const emit = (event: LoomEvent): void => {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (err) {
        onError(err);
      }
    }
  };

  const assertOpen = (): void => {
    if (closing) throw new ClosedError('the Loom service is closed');
  };
  const open = async (): Promise<Executor> => {
    assertOpen();
    return executors.get();
  };

  // Starting early saves the first run the engine handshake and reaps what a crash left; a
  // missing engine is not an error yet (engineStatus reports it, the next call retries).
  executors.get().catch(() => undefined);

  /** Remembers a request's config under its pool key, for rotation and the pool's summaries. */
  const remember = (executor: Executor, request: ExecuteRequest): void => {
    const withCommand = request.command.length || request.source ? request : create(ExecuteRequestSchema, { ...request, command: ['true'] });
    known.remember(executor.poolKey(request), { request, packages: normalizeRequest(withCommand, policy).container.packages });
  };

  const finishRun = (summary: RunSummary, outcome: RunOutcome): void => {
    const finishedAt = Date.now();
    let stored: RunSummary | null = null;
    try {
      stored = history.finish(summary.id, outcome, finishedAt);
    } catch (err) {
      onError(err);
    }
    const { response: _response, error, ...figures } = outcome;
    // A run deleted while it ran has no row any more; the UI still hears how it ended.
    const run = stored ?? { ...summary, ...figures, finishedAt };
    emit(error ? { type: 'run.finished', run, error } : { type: 'run.finished', run });
    emit({ type: 'pool.changed' });
  };

  const keepArtifact = async (runId: string, artifact: Artifact, content: AsyncIterable<Buffer>): Promise<void> => {
    const size = Number(artifact.size);
    const base = { path: artifact.path, mime: artifact.mime, size };
    if (size > maxArtifactBytes) {
      history.addArtifact(runId, { ...base, note: `too large to keep in the history: ${size} bytes, over its cap of ${maxArtifactBytes} bytes per artifact` });
      return;
    }
    const parts: Buffer[] = [];
    for await (const chunk of content) parts.push(chunk);
    history.addArtifact(runId, { ...base, data: Buffer.concat(parts) });
  };

  const runToEnd = async (executor: Executor, request: ExecuteRequest, run: ActiveRun, batcher: EventBatcher): Promise<void> => {
    const { summary, controller } = run;
    let response: ExecuteResponse;
    try {
      if (controller.signal.aborted) throw new AbortedError('the run was cancelled before it started');
      response = await executor.execute(request, {
        signal: controller.signal,
        // Kept in the history up to a cap each; beyond it, listed with a note.
        onArtifact: request.outputDir ? (artifact, content) => keepArtifact(summary.id, artifact, content) : undefined,
        onEvent: (event) => {
          batcher.push(event);
          if (event.event.case === 'phase' && event.event.value.phase === Phase.RUNNING) emit({ type: 'pool.changed' });
        },
      });
    } catch (err) {
      batcher.flush();
      finishRun(summary, {
        status: err instanceof AbortedError ? 'cancelled' : 'error',
        durationMs: Date.now() - summary.startedAt,
        error: serializeError(err),
      });
      return;
    }
    batcher.flush();
    finishRun(summary, {
      status: response.compileError ? 'compile_error' : response.timedOut ? 'timed_out' : response.exitCode === 0 ? 'ok' : 'failed',
      exitCode: response.exitCode,
      durationMs: response.durationMs,
      containerCreated: response.containerCreated,
      response: executeResponseJson(response),
    });
  };

  const service: LoomService = {
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    async engineStatus(): Promise<EngineStatus> {
      let address = executorOptions.docker ? (executorOptions.dockerHost ?? 'the configured client') : resolveDockerHost(executorOptions.dockerHost);
      try {
        const client = engineClient();
        address = client.address;
        const info = await pingEngine(client.docker, client.address, STATUS_TIMEOUT_MS);
        // Reachable again after being down: get the executor ready for the next run.
        if (!executors.current && !closing) executors.get().catch(() => undefined);
        return { ok: true, address, version: info.version, apiVersion: info.apiVersion };
      } catch (err) {
        return { ok: false, address, error: err instanceof Error ? err.message : String(err) };
      }
    },

    async startRun(runId, json) {
      if (typeof runId !== 'string' || !UUID.test(runId)) {
        throw new ValidationError('runId', `must be a UUID in lowercase, as crypto.randomUUID() makes it; got ${typeof runId === 'string' ? `'${runId.slice(0, 64)}'` : typeof runId}`);
      }
      const request = parseRequestJson(json);
      // Bad input fails this call, naming the field, instead of becoming a failed run.
      const normalized = normalizeRequest(request, policy);
      const executor = await open();
      // After the last await: two calls with the same id cannot both get past this.
      if (active.has(runId) || history.get(runId)) throw new ValidationError('runId', `${runId} is the id of another run: choose a fresh one`);
      remember(executor, request);
      const summary: RunSummary = {
        id: runId,
        startedAt: Date.now(),
        status: 'running',
        runtime: normalized.container.runtime,
        title: runTitle(request),
      };
      history.insertRunning(summary, toJson(ExecuteRequestSchema, request));
      const batcher = new EventBatcher((event) => emit({ type: 'run.event', runId, event: eventJson(event) }), options.eventIntervalMs ?? DEFAULT_BATCH_INTERVAL_MS);
      const run: ActiveRun = { summary, controller: new AbortController(), done: Promise.resolve() };
      active.set(runId, run);
      run.done = runToEnd(executor, request, run, batcher)
        .catch(onError)
        .finally(() => active.delete(runId));
      return summary;
    },

    async cancelRun(runId) {
      active.get(runId)?.controller.abort();
    },

    async listContainers() {
      return poolContainers(await open(), (key) => known.get(key)?.packages);
    },

    async prewarm(json, count) {
      const request = parseRequestJson(json);
      if (!Number.isInteger(count) || count < 1 || count > MAX_PREWARM) {
        throw new ValidationError('count', `${count} must be a whole number from 1 to ${MAX_PREWARM}`);
      }
      const executor = await open();
      remember(executor, request);
      try {
        await executor.prewarm(request, count);
      } finally {
        emit({ type: 'pool.changed' });
      }
    },

    async removeContainer(id) {
      // Only Loom's own containers (the executor refuses others): the UI must never become a
      // way to remove anything else.
      await (await open()).removeContainer(id);
      emit({ type: 'pool.changed' });
    },

    async rotateContainer(id) {
      const executor = await open();
      const own = resolveRef(id, executor.containers()).found;
      const config = own && known.get(own.poolKey);
      // Another process's container, or a config this service never saw: removal is all it can do.
      if (!own || !config) return service.removeContainer(id);
      const size = executor.containers().filter((c) => c.poolKey === own.poolKey).length;
      await executor.removeContainer(own.id);
      try {
        // prewarm fills the pool key up to `size`: one new container in place of the old one.
        await executor.prewarm(config.request, size);
      } finally {
        emit({ type: 'pool.changed' });
      }
    },

    async pruneContainers() {
      const { docker } = await open();
      const removed = await pruneManaged(docker);
      await pruneVolumes(docker).catch(onError);
      emit({ type: 'pool.changed' });
      return { removed: removed.length };
    },

    async listRuns() {
      assertOpen();
      return history.list();
    },

    async getRun(id): Promise<RunRecord | null> {
      assertOpen();
      return history.get(id);
    },

    async deleteRun(id) {
      assertOpen();
      // Deleting a running run stops it too: nothing would show its end any more.
      active.get(id)?.controller.abort();
      history.delete(id);
    },

    async listExamples() {
      return listExamples();
    },

    async listTraces(query) {
      assertOpen();
      return hub.store.list(checkTraceQuery(query));
    },

    async getTrace(traceId) {
      assertOpen();
      return hub.store.get(checkTraceId(traceId));
    },

    async getTraceHead(traceId, limit) {
      assertOpen();
      if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_TRACE_HEAD) {
        throw new ValidationError('limit', `must be a whole number of spans from 1 to ${MAX_TRACE_HEAD}, got ${typeof limit === 'number' ? limit : typeof limit}`);
      }
      return hub.store.head(checkTraceId(traceId), limit);
    },

    async deleteTrace(traceId) {
      assertOpen();
      hub.store.delete(checkTraceId(traceId));
    },

    async importTraces(text) {
      assertOpen();
      return hub.importOtlpJson(text);
    },

    async exportTrace(traceId) {
      assertOpen();
      return hub.exportOtlpJson(traceId);
    },

    async traceReceiverStatus() {
      return hub.receiverStatus();
    },

    async traceCollector() {
      return hub.collector();
    },

    async sendTraceToCollector(traceId) {
      assertOpen();
      return hub.sendToCollector(traceId);
    },
    executor: open,
    ...sessionCalls(open, emit),
    listHostedServers: hosted.listHostedServers,
    addHostedServer: hosted.addHostedServer,
    removeHostedServer: hosted.removeHostedServer,
    listHostedTools: hosted.listHostedTools,
    callHostedTool: (server, tool, args) => {
      assertOpen();
      return hosted.callHostedTool(server, tool, args);
    },

    close() {
      closing ??= (async () => {
        for (const run of active.values()) run.controller.abort();
        await Promise.allSettled([...active.values()].map((r) => r.done));
        // Before the executor: the hosted servers' containers are removed with its engine client.
        await hosted.close().catch(onError);
        await executors.close();
        await hub.close();
        history.close();
        listeners.clear();
      })();
      return closing;
    },
  };

  /** The client for status pings: the executor's once it exists, else one of our own. */
  function engineClient(): { docker: Docker; address: string } {
    const executor = executors.current;
    if (executor) return { docker: executor.docker, address: executor.engine.address };
    if (executorOptions.docker) return { docker: executorOptions.docker, address: executorOptions.dockerHost ?? 'the configured client' };
    statusClient ??= connectDocker(executorOptions.dockerHost);
    return statusClient;
  }

  return service;
}

/**
 * An event as it leaves: proto3 JSON. The final `done` goes without stdout, stderr and spans:
 * they already arrived as their own events, and repeating megabytes of output (and up to 250k
 * spans) would double what crosses to the UI. getRun has the whole response.
 */
function eventJson(event: ExecuteEvent): LoomEventJson {
  const e = event.event;
  if (e.case !== 'done') return executeEventJson(event);
  const slim = create(ExecuteResponseSchema, { ...e.value, stdout: new Uint8Array(), stderr: new Uint8Array(), spans: [] });
  return executeEventJson(create(ExecuteEventSchema, { event: { case: 'done', value: slim } }));
}

type LoomEventJson = Extract<LoomEvent, { type: 'run.event' }>['event'];
