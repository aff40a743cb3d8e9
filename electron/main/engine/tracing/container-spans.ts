// Validates the span records that the in-container tracing libraries write, one JSON object per
// line. The container runs untrusted code, so a record is only data until proven otherwise:
// anything malformed is rejected whole (the caller counts it), while oversized attributes are
// trimmed rather than costing the user the span.
//
// The format is documented for every language in docs/span-format.md (version 1).
// Record: {"v","traceId","spanId","parentSpanId","name","startTimeUnixNano","endTimeUnixNano",
//          "attributes","status","statusMessage"}; times are decimal strings (a JSON number
// cannot hold nanoseconds since 1970 exactly). parentSpanId, attributes, status and
// statusMessage may be left out (root, none, unset, ''); present with the wrong type, they make
// the record malformed. Unknown keys are ignored.

import { create, type JsonObject, type JsonValue } from '@bufbuild/protobuf';
import { SpanSchema, SpanSource, SpanStatus, type Span } from '../../../../shared/gen/loom/v1/docker_pb';

/** The span record format's version: a record may say it as "v" (docs/span-format.md). */
export const SPAN_FORMAT_VERSION = 1;
export const MAX_NAME_CHARS = 1024;
export const MAX_ATTRIBUTES = 128;
/** Bytes (UTF-8) kept of a string attribute value, and of the status message. */
export const MAX_STRING_BYTES = 8 * 1024;
/** Levels of nesting kept as structure inside one attribute value. */
export const MAX_NESTING = 16;

const TRACE_ID = /^[0-9a-f]{32}$/i;
const SPAN_ID = /^[0-9a-f]{16}$/i;
const ALL_ZERO = /^0+$/;
const UINT64 = /^\d{1,20}$/;
const UINT64_MAX = (1n << 64n) - 1n;

const STATUS: Record<string, SpanStatus> = {
  unset: SpanStatus.UNSPECIFIED,
  ok: SpanStatus.OK,
  error: SpanStatus.ERROR,
};

/**
 * One record as a CONTAINER Span, or null if it is malformed or belongs to another trace than
 * `expectedTraceId` (a program must not inject spans into someone else's trace). Ids are
 * accepted in either case and returned lowercase.
 */
export function parseContainerSpanLine(line: string, expectedTraceId: string): Span | null {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return null;
  }
  if (!isObject(record)) return null;
  // The format's version (docs/span-format.md): absent means 1; a later one is not understood.
  if (record.v !== undefined && record.v !== SPAN_FORMAT_VERSION) return null;

  const traceId = id(record.traceId, TRACE_ID);
  const spanId = id(record.spanId, SPAN_ID);
  if (traceId === undefined || spanId === undefined) return null;
  if (traceId !== expectedTraceId.toLowerCase()) return null;

  let parentSpanId = '';
  if (record.parentSpanId !== undefined && record.parentSpanId !== '') {
    const parent = id(record.parentSpanId, SPAN_ID);
    if (parent === undefined) return null;
    parentSpanId = parent;
  }

  const { name } = record;
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_CHARS) return null;

  const start = uint64(record.startTimeUnixNano);
  const end = uint64(record.endTimeUnixNano);
  if (start === undefined || end === undefined || end < start) return null;

  let attributes: JsonObject = {};
  if (record.attributes !== undefined) {
    if (!isObject(record.attributes)) return null;
    attributes = capAttributes(record.attributes);
  }

  let status = SpanStatus.UNSPECIFIED;
  if (record.status !== undefined) {
    if (typeof record.status !== 'string' || !Object.hasOwn(STATUS, record.status)) return null;
    status = STATUS[record.status] as SpanStatus;
  }

  let statusMessage = '';
  if (record.statusMessage !== undefined) {
    if (typeof record.statusMessage !== 'string') return null;
    statusMessage = truncateUtf8(record.statusMessage, MAX_STRING_BYTES);
  }

  return create(SpanSchema, {
    traceId,
    spanId,
    parentSpanId,
    name,
    startTimeUnixNano: start,
    endTimeUnixNano: end,
    attributes,
    status,
    statusMessage,
    source: SpanSource.CONTAINER,
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function id(value: unknown, shape: RegExp): string | undefined {
  if (typeof value !== 'string' || !shape.test(value) || ALL_ZERO.test(value)) return undefined;
  return value.toLowerCase();
}

function uint64(value: unknown): bigint | undefined {
  if (typeof value !== 'string' || !UINT64.test(value)) return undefined;
  const n = BigInt(value);
  return n <= UINT64_MAX ? n : undefined;
}

/**
 * The first MAX_ATTRIBUTES keys, with every value bounded: strings are cut to MAX_STRING_BYTES;
 * an object or array is kept as it is when its JSON is within MAX_STRING_BYTES and it nests at
 * most MAX_NESTING deep, otherwise it becomes its JSON text, cut the same way. (The deep ones
 * matter beyond size: encoding a Struct recurses once per level.) Non-finite numbers, which
 * JSON.parse makes of literals like 1e999 and which a Struct cannot hold, become strings.
 */
function capAttributes(input: Record<string, unknown>): JsonObject {
  const entries = Object.entries(input).slice(0, MAX_ATTRIBUTES);
  // fromEntries defines own properties, so a "__proto__" key stays a key, not a prototype.
  return Object.fromEntries(entries.map(([key, value]) => [key, capValue(value)]));
}

function capValue(value: unknown): JsonValue {
  if (typeof value === 'string') return truncateUtf8(value, MAX_STRING_BYTES);
  const copy = boundedCopy(value, MAX_NESTING);
  if (copy === undefined) {
    try {
      return truncateUtf8(JSON.stringify(value), MAX_STRING_BYTES);
    } catch {
      return ''; // nested too deeply even for JSON.stringify
    }
  }
  if (typeof copy !== 'object' || copy === null) return copy;
  const text = JSON.stringify(copy);
  return utf8Length(text) <= MAX_STRING_BYTES ? copy : truncateUtf8(text, MAX_STRING_BYTES);
}

/** A JSON-safe copy, or undefined when `value` nests deeper than `levels`. */
function boundedCopy(value: unknown, levels: number): JsonValue | undefined {
  if (typeof value === 'string' || typeof value === 'boolean' || value === null) return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (levels === 0) return undefined;
  const items = Array.isArray(value) ? value.entries() : isObject(value) ? Object.entries(value) : undefined;
  if (!items) return null; // JSON.parse yields nothing else
  const out: [string | number, JsonValue][] = [];
  for (const [key, item] of items) {
    const copy = boundedCopy(item, levels - 1);
    if (copy === undefined) return undefined;
    out.push([key, copy]);
  }
  return Array.isArray(value) ? out.map(([, item]) => item) : Object.fromEntries(out);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function utf8Length(text: string): number {
  return encoder.encode(text).length;
}

/** At most `maxBytes` of UTF-8, cut at a character boundary. */
export function truncateUtf8(text: string, maxBytes: number): string {
  // A UTF-16 unit is at most 3 UTF-8 bytes: short strings need no encoding at all.
  if (text.length * 3 <= maxBytes) return text;
  const bytes = encoder.encode(text);
  if (bytes.length <= maxBytes) return text;
  let cut = maxBytes;
  // Back off continuation bytes (10xxxxxx) so no character is split.
  while (cut > 0 && ((bytes[cut] as number) & 0xc0) === 0x80) cut--;
  return decoder.decode(bytes.subarray(0, cut));
}
