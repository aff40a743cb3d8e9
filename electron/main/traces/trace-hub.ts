// The traces side of the Loom service: the store, the OTLP receiver in front of it, the sink
// that records every run, import and export as OTLP JSON, and sending a trace on to an external
// collector. Tells the UI which traces changed, at most every CHANGE_INTERVAL_MS.
import { ValidationError } from '../engine/errors';
import type { TraceSink } from '../engine/tracing/tracer';
import { tracesUrl } from '../engine/tracing/otlp';
import type { CollectorTarget, ReceiverStatus, TraceSpan } from '../../../shared/traces/types';
import { decodeOtlpJsonText, encodeOtlpJson, OtlpDecodeError } from './otlp-json';
import { startOtlpReceiver, type OtlpReceiver, type OtlpReceiverOptions } from './otlp-receiver';
import { TraceStoreSink } from './run-spans';
import { TraceStore, type TraceStoreOptions } from './trace-store';

export interface TraceHubOptions {
  /** The SQLite file (the run history's). */
  path: string;
  /** The OTLP receiver; false (the default) turns it off. */
  receiver?: false | Omit<OtlpReceiverOptions, 'onSpans'>;
  retention?: TraceStoreOptions;
  /** Where "open in collector" sends a trace. */
  collector?: CollectorConfig;
  onChanged: (traceIds: string[]) => void;
  onError: (err: unknown) => void;
}

export interface CollectorConfig {
  /** OTLP/HTTP endpoint: a base URL (http://localhost:4318) or a full .../v1/traces URL. */
  endpoint: string;
  /** The collector UI's address of a trace, with {traceId} in it (e.g. http://localhost:16686/trace/{traceId}). */
  viewUrl?: string;
}

export interface TraceHub {
  readonly store: TraceStore;
  /** For the executor: every run's trace goes to the store. */
  readonly sink: TraceSink;
  add(spans: TraceSpan[]): void;
  receiverStatus(): ReceiverStatus;
  importOtlpJson(text: string): { traceIds: string[]; spans: number };
  exportOtlpJson(traceId: string): string;
  collector(): CollectorTarget | null;
  sendToCollector(traceId: string): Promise<CollectorTarget>;
  close(): Promise<void>;
}

const CHANGE_INTERVAL_MS = 200;
/** An import file above this is refused (it is read whole). */
export const MAX_IMPORT_CHARS = 256 * 1024 * 1024;

export async function createTraceHub(options: TraceHubOptions): Promise<TraceHub> {
  const store = new TraceStore(options.path, options.retention);
  const changed = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  const flushChanged = (): void => {
    timer = undefined;
    const ids = [...changed];
    changed.clear();
    if (ids.length) options.onChanged(ids);
  };
  const add = (spans: TraceSpan[]): void => {
    const { traceIds } = store.add(spans);
    for (const id of traceIds) changed.add(id);
    timer ??= setTimeout(flushChanged, CHANGE_INTERVAL_MS);
  };
  // Age-based retention runs even when nothing arrives.
  const pruneTimer = setInterval(() => {
    try {
      store.prune();
    } catch (err) {
      options.onError(err);
    }
  }, 60_000);
  pruneTimer.unref();

  let receiver: OtlpReceiver | undefined;
  let receiverError: string | undefined;
  if (options.receiver !== false && options.receiver !== undefined) {
    try {
      receiver = await startOtlpReceiver({ ...options.receiver, onSpans: add });
    } catch (err) {
      receiverError = err instanceof Error ? err.message : String(err);
    }
  }
  const collectorConfig = options.collector;
  const collectorTarget = (traceId?: string): CollectorTarget | null => {
    if (!collectorConfig) return null;
    const target: CollectorTarget = { endpoint: tracesUrl(collectorConfig.endpoint) };
    if (collectorConfig.viewUrl) target.viewUrl = traceId ? collectorConfig.viewUrl.replaceAll('{traceId}', traceId) : collectorConfig.viewUrl;
    return target;
  };
  const exportJson = (traceId: string): string => {
    const record = store.get(checkTraceId(traceId));
    if (!record) throw new ValidationError('traceId', `no trace ${traceId} in the store`);
    return JSON.stringify(encodeOtlpJson(record.spans));
  };

  return {
    store,
    sink: new TraceStoreSink(add, options.onError),
    add,
    receiverStatus() {
      if (receiver) return receiver.status();
      const enabled = options.receiver !== false && options.receiver !== undefined;
      const base = { enabled, listening: false, acceptedSpans: 0, rejectedSpans: 0, malformedRequests: 0, refusedRequests: 0 };
      return receiverError ? { ...base, error: receiverError } : base;
    },
    importOtlpJson(text) {
      if (typeof text !== 'string') throw new ValidationError('text', 'must be the text of an OTLP JSON file');
      if (text.length > MAX_IMPORT_CHARS) throw new ValidationError('text', `the file is over ${MAX_IMPORT_CHARS} characters`);
      let spans: TraceSpan[];
      try {
        spans = decodeOtlpJsonText(text).spans;
      } catch (err) {
        if (err instanceof OtlpDecodeError) throw new ValidationError('text', `not an OTLP JSON trace file: ${err.message}`);
        throw err;
      }
      if (spans.length === 0) throw new ValidationError('text', 'the file holds no spans with valid ids');
      add(spans);
      return { traceIds: [...new Set(spans.map((s) => s.traceId))], spans: spans.length };
    },
    exportOtlpJson: exportJson,
    collector: () => collectorTarget(),
    async sendToCollector(traceId) {
      const target = collectorTarget(checkTraceId(traceId));
      if (!target) throw new ValidationError('collector', 'no external collector is configured: set LOOM_TRACE_COLLECTOR (an OTLP/HTTP URL), or --collector for loom ui');
      const body = exportJson(traceId);
      let res: Response;
      try {
        res = await fetch(target.endpoint, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body, signal: AbortSignal.timeout(10_000) });
      } catch (err) {
        throw new Error(`the collector at ${target.endpoint} did not answer: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (!res.ok) throw new Error(`the collector at ${target.endpoint} answered ${res.status} ${res.statusText}`);
      return target;
    },
    async close() {
      clearInterval(pruneTimer);
      if (timer) clearTimeout(timer);
      flushChanged();
      await receiver?.close();
      store.close();
    },
  };
}

export function checkTraceId(traceId: unknown): string {
  if (typeof traceId !== 'string' || !/^[0-9a-f]{32}$/.test(traceId)) {
    throw new ValidationError('traceId', `must be 32 lowercase hex digits, got ${typeof traceId === 'string' ? `'${traceId.slice(0, 64)}'` : typeof traceId}`);
  }
  return traceId;
}
