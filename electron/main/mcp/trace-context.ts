// W3C trace context for MCP calls: a caller puts `traceparent` in a request's params._meta (as
// OpenTelemetry's MCP conventions do), and the sandbox's spans join that trace. Anything that is
// not a valid traceparent is ignored, as W3C asks: the call then starts a trace of its own.

export interface TraceParent {
  traceId: string;
  spanId: string;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export function parseTraceparent(value: unknown): TraceParent | undefined {
  if (typeof value !== 'string') return undefined;
  const m = TRACEPARENT.exec(value.trim());
  if (!m) return undefined;
  const [, version, traceId, spanId] = m as unknown as [string, string, string, string];
  // Version ff is forbidden; all-zero ids are invalid.
  if (version === 'ff' || /^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId };
}

/** The traceparent of a request's `_meta`, if it carries a valid one. */
export function traceparentOf(meta: Record<string, unknown> | undefined): TraceParent | undefined {
  return parseTraceparent(meta?.['traceparent']);
}
