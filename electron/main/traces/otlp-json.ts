// OTLP's JSON encoding of traces (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding):
// decoding what a client sends or a file holds, and encoding a stored trace for export. Ids are
// hex, 64-bit integers may be strings or numbers, enums are integers (names are accepted too).
import type { AttributeValue, Attributes, TraceSpan, TraceSpanEvent, TraceSpanLink } from '../../../shared/traces/types';
import { clipText, SPAN_LIMITS, validId } from './span-limits';

/** A body that is not an OTLP trace export, with the reason (answered as 400). */
export class OtlpDecodeError extends Error {
  override name = 'OtlpDecodeError';
}

export interface DecodedSpans {
  spans: TraceSpan[];
  /** Spans left out for invalid ids (OTLP's partial success). */
  rejected: number;
}

type Json = unknown;

const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

function list(v: Json, where: string): Json[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new OtlpDecodeError(`${where} must be an array`);
  return v;
}

function object(v: Json, where: string): Record<string, Json> {
  if (v === undefined || v === null) return {};
  if (!isObject(v)) throw new OtlpDecodeError(`${where} must be an object`);
  return v;
}

function text(v: Json, where: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new OtlpDecodeError(`${where} must be a string`);
  return clipText(v);
}

/** A uint64 as a decimal string, from a JSON string or number. */
function nanos(v: Json, where: string): string {
  if (v === undefined || v === null) return '0';
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return BigInt(v).toString();
  if (typeof v === 'string' && /^\d{1,20}$/.test(v)) return BigInt(v).toString();
  throw new OtlpDecodeError(`${where} must be a whole number of nanoseconds`);
}

const KINDS: Record<string, number> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};
const CODES: Record<string, number> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };

function enumValue(v: Json, names: Record<string, number>, where: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && v in names) return names[v] as number;
  throw new OtlpDecodeError(`${where} must be an enum number`);
}

/** Parses the text of an OTLP JSON body or file. */
export function decodeOtlpJsonText(body: string): DecodedSpans {
  let parsed: Json;
  try {
    parsed = JSON.parse(body);
  } catch (err) {
    throw new OtlpDecodeError(`the body is not JSON: ${(err as Error).message}`);
  }
  return decodeOtlpJson(parsed);
}

export function decodeOtlpJson(body: Json): DecodedSpans {
  if (!isObject(body)) throw new OtlpDecodeError('the body must be a JSON object with resourceSpans');
  const spans: TraceSpan[] = [];
  let rejected = 0;
  list(body['resourceSpans'], 'resourceSpans').forEach((rsJson, i) => {
    const at = `resourceSpans[${i}]`;
    const rs = object(rsJson, at);
    const resource = attributes(object(rs['resource'], `${at}.resource`)['attributes'], `${at}.resource.attributes`);
    const service = typeof resource['service.name'] === 'string' ? resource['service.name'] : '';
    list(rs['scopeSpans'], `${at}.scopeSpans`).forEach((ssJson, j) => {
      const sat = `${at}.scopeSpans[${j}]`;
      const ss = object(ssJson, sat);
      const scope = text(object(ss['scope'], `${sat}.scope`)['name'], `${sat}.scope.name`);
      list(ss['spans'], `${sat}.spans`).forEach((spanJson, k) => {
        const span = readSpan(object(spanJson, `${sat}.spans[${k}]`), `${sat}.spans[${k}]`, service, scope, resource);
        if (span) spans.push(span);
        else rejected++;
      });
    });
  });
  return { spans, rejected };
}

function readSpan(s: Record<string, Json>, at: string, service: string, scope: string, resource: Attributes): TraceSpan | null {
  const status = object(s['status'], `${at}.status`);
  const code = enumValue(status['code'], CODES, `${at}.status.code`);
  const span: TraceSpan = {
    traceId: text(s['traceId'], `${at}.traceId`).toLowerCase(),
    spanId: text(s['spanId'], `${at}.spanId`).toLowerCase(),
    parentSpanId: text(s['parentSpanId'], `${at}.parentSpanId`).toLowerCase(),
    name: text(s['name'], `${at}.name`),
    kind: enumValue(s['kind'], KINDS, `${at}.kind`),
    startTimeUnixNano: nanos(s['startTimeUnixNano'], `${at}.startTimeUnixNano`),
    endTimeUnixNano: nanos(s['endTimeUnixNano'], `${at}.endTimeUnixNano`),
    service,
    scope,
    attributes: attributes(s['attributes'], `${at}.attributes`),
    resource,
    status: code === 1 ? 'ok' : code === 2 ? 'error' : 'unset',
    statusMessage: text(status['message'], `${at}.status.message`),
    events: list(s['events'], `${at}.events`)
      .slice(0, SPAN_LIMITS.events)
      .map((e, i): TraceSpanEvent => {
        const ev = object(e, `${at}.events[${i}]`);
        return {
          timeUnixNano: nanos(ev['timeUnixNano'], `${at}.events[${i}].timeUnixNano`),
          name: text(ev['name'], `${at}.events[${i}].name`),
          attributes: attributes(ev['attributes'], `${at}.events[${i}].attributes`),
        };
      }),
    links: list(s['links'], `${at}.links`)
      .slice(0, SPAN_LIMITS.links)
      .map((l, i): TraceSpanLink => {
        const link = object(l, `${at}.links[${i}]`);
        return {
          traceId: text(link['traceId'], `${at}.links[${i}].traceId`).toLowerCase(),
          spanId: text(link['spanId'], `${at}.links[${i}].spanId`).toLowerCase(),
          attributes: attributes(link['attributes'], `${at}.links[${i}].attributes`),
        };
      })
      .filter((l) => validId(l.traceId, 16) && validId(l.spanId, 8)),
    source: 'external',
  };
  // Loom's own export marks its spans; they keep their source when they come back (an import).
  const loomSource = span.attributes['loom.source'];
  if (loomSource === 'host' || loomSource === 'container') {
    span.source = loomSource;
    delete span.attributes['loom.source'];
  }
  if (!validId(span.traceId, 16) || !validId(span.spanId, 8)) return null;
  if (span.parentSpanId !== '' && !validId(span.parentSpanId, 8)) span.parentSpanId = '';
  return span;
}

function attributes(v: Json, at: string): Attributes {
  const out: Attributes = {};
  const items = list(v, at);
  for (let i = 0; i < items.length && i < SPAN_LIMITS.attributes; i++) {
    const kv = object(items[i], `${at}[${i}]`);
    out[text(kv['key'], `${at}[${i}].key`)] = anyValue(kv['value'], `${at}[${i}].value`, 1);
  }
  return out;
}

function anyValue(v: Json, at: string, depth: number): AttributeValue {
  if (depth > SPAN_LIMITS.valueDepth) throw new OtlpDecodeError(`${at} nests deeper than ${SPAN_LIMITS.valueDepth} levels`);
  if (v === undefined || v === null) return null;
  const value = object(v, at);
  if ('stringValue' in value) return text(value['stringValue'], `${at}.stringValue`);
  if ('boolValue' in value) return value['boolValue'] === true;
  if ('intValue' in value) {
    const raw = value['intValue'];
    if (typeof raw === 'number' && Number.isInteger(raw)) return raw;
    if (typeof raw === 'string' && /^-?\d{1,20}$/.test(raw)) return Number.isSafeInteger(Number(raw)) ? Number(raw) : raw;
    throw new OtlpDecodeError(`${at}.intValue must be an integer`);
  }
  if ('doubleValue' in value) {
    const raw = value['doubleValue'];
    if (typeof raw === 'number') return raw;
    // proto3 JSON spells non-finite doubles as strings.
    if (raw === 'NaN' || raw === 'Infinity' || raw === '-Infinity') return raw;
    throw new OtlpDecodeError(`${at}.doubleValue must be a number`);
  }
  if ('arrayValue' in value) {
    return list(object(value['arrayValue'], `${at}.arrayValue`)['values'], `${at}.arrayValue.values`)
      .slice(0, SPAN_LIMITS.valueItems)
      .map((item, i) => anyValue(item, `${at}.arrayValue.values[${i}]`, depth + 1));
  }
  if ('kvlistValue' in value) {
    const out: Record<string, AttributeValue> = {};
    const items = list(object(value['kvlistValue'], `${at}.kvlistValue`)['values'], `${at}.kvlistValue.values`).slice(0, SPAN_LIMITS.valueItems);
    items.forEach((item, i) => {
      const kv = object(item, `${at}.kvlistValue.values[${i}]`);
      out[text(kv['key'], `${at}.kvlistValue.values[${i}].key`)] = anyValue(kv['value'], `${at}.kvlistValue.values[${i}].value`, depth + 1);
    });
    return out;
  }
  if ('bytesValue' in value) return text(value['bytesValue'], `${at}.bytesValue`);
  return null;
}

// ---- encoding (export) ----

export interface OtlpJsonExport {
  resourceSpans: {
    resource: { attributes: OtlpKeyValue[] };
    scopeSpans: { scope: { name: string }; spans: OtlpJsonSpan[] }[];
  }[];
}

interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}

type OtlpAnyValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: string }
  | { doubleValue: number | string }
  | { arrayValue: { values: OtlpAnyValue[] } }
  | { kvlistValue: { values: OtlpKeyValue[] } }
  | Record<string, never>;

interface OtlpJsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: OtlpKeyValue[];
  events: { timeUnixNano: string; name: string; attributes: OtlpKeyValue[] }[];
  links: { traceId: string; spanId: string; attributes: OtlpKeyValue[] }[];
  status: { code: number; message?: string };
}

/** Spans as one OTLP JSON export request: grouped by resource (service) and scope. */
export function encodeOtlpJson(spans: readonly TraceSpan[]): OtlpJsonExport {
  const resources = new Map<string, { resource: Attributes; scopes: Map<string, OtlpJsonSpan[]> }>();
  for (const span of spans) {
    const resource = Object.keys(span.resource).length ? span.resource : span.service ? { 'service.name': span.service } : {};
    const key = JSON.stringify(resource);
    let entry = resources.get(key);
    if (!entry) resources.set(key, (entry = { resource, scopes: new Map() }));
    let scoped = entry.scopes.get(span.scope);
    if (!scoped) entry.scopes.set(span.scope, (scoped = []));
    // Loom's own spans say where they ran, so that an import gives them back their source.
    const attrs = span.source === 'external' ? span.attributes : { ...span.attributes, 'loom.source': span.source };
    scoped.push({
      traceId: span.traceId,
      spanId: span.spanId,
      parentSpanId: span.parentSpanId,
      name: span.name,
      kind: span.kind,
      startTimeUnixNano: span.startTimeUnixNano,
      endTimeUnixNano: span.endTimeUnixNano,
      attributes: keyValues(attrs),
      events: span.events.map((e) => ({ timeUnixNano: e.timeUnixNano, name: e.name, attributes: keyValues(e.attributes) })),
      links: span.links.map((l) => ({ traceId: l.traceId, spanId: l.spanId, attributes: keyValues(l.attributes) })),
      status: { code: span.status === 'ok' ? 1 : span.status === 'error' ? 2 : 0, ...(span.statusMessage ? { message: span.statusMessage } : {}) },
    });
  }
  return {
    resourceSpans: [...resources.values()].map(({ resource, scopes }) => ({
      resource: { attributes: keyValues(resource) },
      scopeSpans: [...scopes].map(([name, scopeSpans]) => ({ scope: { name }, spans: scopeSpans })),
    })),
  };
}

function keyValues(attrs: Attributes): OtlpKeyValue[] {
  return Object.entries(attrs).map(([key, value]) => ({ key, value: toAnyValue(value) }));
}

function toAnyValue(value: AttributeValue): OtlpAnyValue {
  if (value === null) return {};
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'number') return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value };
  if (Array.isArray(value)) return { arrayValue: { values: value.map(toAnyValue) } };
  return { kvlistValue: { values: keyValues(value) } };
}
