// W3C trace context for MCP calls: a caller puts `traceparent` in a request's params._meta (as
// OpenTelemetry's MCP conventions do), and the sandbox's spans join that trace. Anything that is
// not a valid traceparent is ignored, as W3C asks: the call then starts a trace of its own.
import { parseTraceParent, type TraceParent } from '../../../shared/traces/traceparent';

export type { TraceParent };

/** The traceparent of a request's `_meta`, if it carries a valid one. */
export function traceparentOf(meta: Record<string, unknown> | undefined): TraceParent | undefined {
  const value = meta?.['traceparent'];
  if (typeof value !== 'string') return undefined;
  const parsed = parseTraceParent(value);
  return 'parent' in parsed ? parsed.parent : undefined;
}
