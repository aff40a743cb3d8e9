// Sends finished traces to an OpenTelemetry collector over OTLP/HTTP (JSON), using the official
// exporter. The spans already exist (host spans we timed, container spans we parsed), so rather
// than re-record them through an SDK tracer they are converted to the SDK's ReadableSpan shape
// with their ids and timestamps kept exactly. Tracing must never hurt an execution: export()
// returns at once, and failures (collector down, slow, refusing) go to onError only.

import { SpanKind, SpanStatusCode, TraceFlags, type Attributes, type AttributeValue, type HrTime } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { JsonObject, JsonValue } from '@bufbuild/protobuf';
import { SpanSource, SpanStatus, type Span } from '../../../../shared/gen/loom/v1/docker_pb';
import { otlpEndpointFromEnv, tracesUrl } from './otlp-url';
import type { TraceSink } from './tracer';

export interface OtlpSinkOptions {
  /**
   * The collector: a base URL (http://localhost:4318), to which /v1/traces is appended, or a full
   * URL with a path, used as it is. Absent: the exporter's own default, which honours the
   * OTEL_EXPORTER_OTLP_* variables and falls back to http://localhost:4318/v1/traces.
   */
  endpoint?: string;
  /** Resource attribute service.name; default 'loom-sandbox'. */
  serviceName?: string;
  /** Per export request (retries included), and the most shutdown() waits; default 3000. */
  timeoutMs?: number;
  /** Told about every failed export. Never called synchronously from export(). */
  onError?: (err: Error) => void;
}

// OpenTelemetry's BatchSpanProcessor default: keeps each request a sane size.
const MAX_BATCH = 512;

export { otlpEndpointFromEnv, tracesUrl };

export class OtlpSink implements TraceSink {
  private readonly exporter: OTLPTraceExporter;
  private readonly resource: Resource;
  private readonly timeoutMs: number;
  private readonly onError: (err: Error) => void;
  private readonly inFlight = new Set<Promise<void>>();
  private pending: ReadableSpan[] = [];
  private flushTimer: NodeJS.Immediate | undefined;
  private closing: Promise<void> | undefined;

  constructor(opts: OtlpSinkOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 3000;
    if (!(this.timeoutMs > 0 && Number.isFinite(this.timeoutMs))) throw new RangeError(`timeoutMs must be positive, got ${opts.timeoutMs}`);
    const report = opts.onError ?? (() => {});
    // A throwing onError must not turn into an unhandled rejection inside the exporter.
    this.onError = (err) => {
      try {
        report(err);
      } catch {
        // nothing sensible left to do with it
      }
    };
    this.resource = resourceFromAttributes({ 'service.name': opts.serviceName ?? 'loom-sandbox' });
    this.exporter = new OTLPTraceExporter({
      ...(opts.endpoint === undefined ? {} : { url: tracesUrl(opts.endpoint) }),
      timeoutMillis: this.timeoutMs,
    });
  }

  export(spans: Span[]): void {
    try {
      if (this.closing) {
        this.failLater(new Error(`OTLP sink is shut down; ${spans.length} span(s) not exported`));
        return;
      }
      for (const span of spans) this.pending.push(toReadableSpan(span, this.resource));
      // Spans exported in the same tick go out together, and the serializing and sending happen
      // after the caller has moved on.
      this.flushTimer ??= setImmediate(() => this.flush());
    } catch (err) {
      this.failLater(asError(err));
    }
  }

  /** Waits for the exports under way, up to timeoutMs, then gives up on them. */
  shutdown(): Promise<void> {
    this.closing ??= this.close();
    return this.closing;
  }

  private async close(): Promise<void> {
    this.flush();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.timeoutMs)));
    try {
      await Promise.race([Promise.all(this.inFlight), deadline]);
    } finally {
      clearTimeout(timer);
    }
    // The exporter's own shutdown waits for every request without a limit: not awaited.
    this.exporter.shutdown().catch(() => {});
  }

  private flush(): void {
    if (this.flushTimer) clearImmediate(this.flushTimer);
    this.flushTimer = undefined;
    const batch = this.pending;
    this.pending = [];
    for (let i = 0; i < batch.length; i += MAX_BATCH) this.send(batch.slice(i, i + MAX_BATCH));
  }

  private send(batch: ReadableSpan[]): void {
    const done = new Promise<void>((resolve) => {
      try {
        this.exporter.export(batch, (result) => {
          if (result.code !== ExportResultCode.SUCCESS) {
            this.onError(result.error ?? new Error(`OTLP export of ${batch.length} span(s) failed`));
          }
          resolve();
        });
      } catch (err) {
        this.onError(asError(err));
        resolve();
      }
    });
    this.inFlight.add(done);
    void done.then(() => this.inFlight.delete(done));
  }

  private failLater(err: Error): void {
    queueMicrotask(() => this.onError(err));
  }
}

/** A Span as the SDK's ReadableSpan: same ids, exact times, attributes plus loom.source. */
export function toReadableSpan(span: Span, resource: Resource): ReadableSpan {
  const spanContext = { traceId: span.traceId, spanId: span.spanId, traceFlags: TraceFlags.SAMPLED };
  const startTime = toHrTime(span.startTimeUnixNano);
  const endTime = toHrTime(span.endTimeUnixNano);
  const duration = toHrTime(span.endTimeUnixNano > span.startTimeUnixNano ? span.endTimeUnixNano - span.startTimeUnixNano : 0n);
  const isError = span.status === SpanStatus.ERROR;
  return {
    name: span.name,
    kind: SpanKind.INTERNAL,
    spanContext: () => spanContext,
    parentSpanContext: span.parentSpanId
      ? { traceId: span.traceId, spanId: span.parentSpanId, traceFlags: TraceFlags.SAMPLED }
      : undefined,
    startTime,
    endTime,
    duration,
    status: {
      code: isError ? SpanStatusCode.ERROR : span.status === SpanStatus.OK ? SpanStatusCode.OK : SpanStatusCode.UNSET,
      // OpenTelemetry carries a description only with ERROR.
      ...(isError && span.statusMessage ? { message: span.statusMessage } : {}),
    },
    attributes: { ...toAttributes(span.attributes), 'loom.source': sourceName(span.source) },
    links: [],
    events: [],
    ended: true,
    resource,
    instrumentationScope: { name: 'loom-sandbox' },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

const NS_PER_S = 1_000_000_000n;

/** Nanoseconds as [seconds, nanoseconds], exactly (both parts fit a double without loss). */
export function toHrTime(ns: bigint): HrTime {
  return [Number(ns / NS_PER_S), Number(ns % NS_PER_S)];
}

function sourceName(source: SpanSource): string {
  return source === SpanSource.HOST ? 'host' : source === SpanSource.CONTAINER ? 'container' : 'unknown';
}

/**
 * A Struct as OpenTelemetry attributes, which hold only primitives and arrays of one primitive
 * type: nulls are left out, and nested objects and mixed arrays are sent as their JSON text.
 */
export function toAttributes(struct: JsonObject | undefined): Attributes {
  const out: Attributes = {};
  for (const [key, value] of Object.entries(struct ?? {})) {
    const converted = toAttributeValue(value);
    if (converted !== undefined) out[key] = converted;
  }
  return out;
}

function toAttributeValue(value: JsonValue): AttributeValue | undefined {
  if (value === null) return undefined;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) {
    if (value.every((v): v is string => typeof v === 'string')) return value;
    if (value.every((v): v is number => typeof v === 'number')) return value;
    if (value.every((v): v is boolean => typeof v === 'boolean')) return value;
  }
  return JSON.stringify(value);
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
