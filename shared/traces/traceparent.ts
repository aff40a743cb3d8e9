// W3C Trace Context's traceparent header (https://www.w3.org/TR/trace-context/#traceparent-header):
// version-traceid-parentid-flags, lowercase hex. Pure, for the engine, the CLI and the UI alike.

export interface TraceParent {
  traceId: string;
  spanId: string;
  /** The trace flags byte (bit 0: sampled). */
  flags: number;
}

const FORMAT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * Reads a traceparent value, or says what is wrong with it (a sentence without the field name,
 * so that each caller names its own field). Version 00 must have exactly four parts; a later
 * version may carry more after them (the specification's forward compatibility); ff is invalid,
 * as are all-zero ids.
 */
export function parseTraceParent(value: string): { parent: TraceParent } | { problem: string } {
  const shown = value.length > 80 ? `${value.slice(0, 80)}…` : value;
  const match = FORMAT.exec(value.trim());
  if (!match) return { problem: `'${shown}' is not a W3C traceparent: expected 00-<32 hex digits trace id>-<16 hex digits span id>-<2 hex digits flags>, in lowercase` };
  const [, version, traceId, spanId, flags, rest] = match as unknown as [string, string, string, string, string, string | undefined];
  if (version === 'ff') return { problem: `'${shown}' has version ff, which the W3C specification reserves as invalid` };
  if (version === '00' && rest !== undefined) return { problem: `'${shown}' has more than four parts, which version 00 does not allow` };
  if (/^0+$/.test(traceId)) return { problem: `'${shown}' has an all-zero trace id, which is invalid` };
  if (/^0+$/.test(spanId)) return { problem: `'${shown}' has an all-zero parent span id, which is invalid` };
  return { parent: { traceId, spanId, flags: parseInt(flags, 16) } };
}

export function formatTraceParent(parent: TraceParent): string {
  return `00-${parent.traceId}-${parent.spanId}-${parent.flags.toString(16).padStart(2, '0')}`;
}
