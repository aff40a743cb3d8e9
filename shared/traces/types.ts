// The trace store's shapes, as they cross to the UI and the CLI: spans from any OpenTelemetry
// client (received over OTLP, imported from a file) and from Loom's own runs, in one form.
// Times are nanoseconds since the Unix epoch as decimal strings (64-bit values do not fit a
// JSON number). Everything here may come from untrusted senders: it is data, never markup.

/** An attribute value as OTLP's AnyValue carries it: primitives, lists and maps; bytes as base64. */
export type AttributeValue = string | number | boolean | null | AttributeValue[] | { [key: string]: AttributeValue };
export type Attributes = Record<string, AttributeValue>;

export type TraceSpanStatus = 'unset' | 'ok' | 'error';
/** Where a span came from: Loom's host phases, the program in the sandbox, or another process. */
export type TraceSpanSource = 'host' | 'container' | 'external';

export interface TraceSpanEvent {
  timeUnixNano: string;
  name: string;
  attributes: Attributes;
}

export interface TraceSpanLink {
  traceId: string;
  spanId: string;
  attributes: Attributes;
}

export interface TraceSpan {
  traceId: string;
  spanId: string;
  /** '' for a root. */
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  /** The resource's service.name ('' when it has none). */
  service: string;
  /** The instrumentation scope's name. */
  scope: string;
  attributes: Attributes;
  /** The resource's attributes, service.name among them. */
  resource: Attributes;
  status: TraceSpanStatus;
  statusMessage: string;
  events: TraceSpanEvent[];
  links: TraceSpanLink[];
  source: TraceSpanSource;
}

export interface TraceSummary {
  traceId: string;
  /** The root span's name, or the earliest span's while the root has not arrived. */
  rootName: string;
  rootService: string;
  /** Whether a span without a parent has arrived. */
  complete: boolean;
  services: string[];
  /** Epoch milliseconds. */
  startMs: number;
  durationMs: number;
  spanCount: number;
  errorCount: number;
  /** When its latest span arrived, epoch milliseconds. */
  updatedAt: number;
  /** Spans of the trace dropped because it went over the per-trace limit. */
  droppedSpans: number;
}

export interface TraceRecord {
  summary: TraceSummary;
  spans: TraceSpan[];
}

/** The most spans a TraceHead holds. */
export const MAX_TRACE_HEAD = 5000;

/**
 * The start of a trace, for a first paint before the whole trace has arrived (a trace can
 * hold 250,000 spans): its first spans in the order the tree view lists them (depth first,
 * children by start time, then name, then id; so every span's parent comes before it), and
 * the whole trace's time bounds, the waterfall's scale.
 */
export interface TraceHead {
  summary: TraceSummary;
  spans: TraceSpan[];
  /** The earliest non-zero start and the latest end over all the trace's spans (nanoseconds, decimal). */
  startTimeUnixNano: string;
  endTimeUnixNano: string;
}

/** Filters for listing traces; every one given must hold. */
export interface TraceQuery {
  /** A trace id (or its start), a span name or a root name, case-insensitive. */
  text?: string;
  /** Some span of the trace is from this service. */
  service?: string;
  /** Some span's name contains this (case-insensitive). */
  spanName?: string;
  /** Some span has this attribute (with this value, when given; compared as text). */
  attributeKey?: string;
  attributeValue?: string;
  /** error: some span failed; ok: none did. */
  status?: 'ok' | 'error';
  /** The trace's duration, in milliseconds. */
  minDurationMs?: number;
  maxDurationMs?: number;
  /** The trace's start, epoch milliseconds. */
  fromMs?: number;
  toMs?: number;
  /** Newest first; default 200, at most 1000. */
  limit?: number;
}

/** The OTLP receiver as the UI shows it. */
export interface ReceiverStatus {
  enabled: boolean;
  listening: boolean;
  /** http://127.0.0.1:PORT/v1/traces while listening. */
  url?: string;
  /** Why it is not listening (the port is taken, ...). */
  error?: string;
  acceptedSpans: number;
  rejectedSpans: number;
  /** Requests answered 400 (malformed), 413 (too large), 415 and 429 (over the rate). */
  malformedRequests: number;
  refusedRequests: number;
}

/** Where "Open in collector" sends a trace, when configured. */
export interface CollectorTarget {
  /** The OTLP/HTTP traces URL the trace is sent to. */
  endpoint: string;
  /** The collector UI's page for the trace, if a template with {traceId} was configured. */
  viewUrl?: string;
}
