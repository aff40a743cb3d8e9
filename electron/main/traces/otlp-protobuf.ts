// Decodes an OTLP ExportTraceServiceRequest from its protobuf wire form, by hand: only the
// fields a trace viewer uses, in one pass, without a schema runtime (the receiver must take
// 50,000 spans a second). Field numbers are those of opentelemetry-proto's
// collector/trace/v1/trace_service.proto, trace/v1/trace.proto, common/v1/common.proto and
// resource/v1/resource.proto. Unknown fields are skipped, as protobuf requires.
import type { AttributeValue, Attributes, TraceSpan, TraceSpanEvent, TraceSpanLink } from '../../../shared/traces/types';
import { clipText, SPAN_LIMITS, validId } from './span-limits';
import { OtlpDecodeError, type DecodedSpans } from './otlp-json';

const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;
const FIXED32 = 5;

class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  varint(): number {
    // Up to 2^53 exactly; the high bits of a larger value (only int64 attributes have them) are kept approximately.
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new OtlpDecodeError('a varint runs past the end of its message');
      const b = this.buf[this.pos++] as number;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    throw new OtlpDecodeError('a varint is longer than 10 bytes');
  }

  /** A varint as a signed 64-bit value (two's complement), exactly, as a bigint. */
  varint64(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new OtlpDecodeError('a varint runs past the end of its message');
      const b = this.buf[this.pos++] as number;
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asIntN(64, result);
      shift += 7n;
    }
    throw new OtlpDecodeError('a varint is longer than 10 bytes');
  }

  fixed64(): bigint {
    this.need(8);
    const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8);
    this.pos += 8;
    return view.getBigUint64(0, true);
  }

  double(): number {
    this.need(8);
    const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8);
    this.pos += 8;
    return view.getFloat64(0, true);
  }

  /** A length-delimited field's bounds. */
  sub(): Reader {
    const len = this.varint();
    this.need(len);
    const reader = new Reader(this.buf, this.pos, this.pos + len);
    this.pos += len;
    return reader;
  }

  bytes(): Uint8Array {
    const r = this.sub();
    return this.buf.subarray(r.pos, r.end);
  }

  string(): string {
    return decoder.decode(this.bytes());
  }

  hex(): string {
    return Buffer.from(this.bytes()).toString('hex');
  }

  skip(wire: number): void {
    if (wire === VARINT) this.varint();
    else if (wire === FIXED64) this.pos += 8;
    else if (wire === LEN) this.sub();
    else if (wire === FIXED32) this.pos += 4;
    else throw new OtlpDecodeError(`unsupported wire type ${wire}`);
    if (this.pos > this.end) throw new OtlpDecodeError('a field runs past the end of its message');
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw new OtlpDecodeError('a field runs past the end of its message');
  }
}

const decoder = new TextDecoder('utf-8');

/** Every field of a message: calls `on` with the field number and wire type; `on` reads or skips it. */
function fields(r: Reader, on: (field: number, wire: number) => boolean): void {
  while (!r.done) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (field === 0) throw new OtlpDecodeError('a field number is 0');
    if (!on(field, wire)) r.skip(wire);
  }
}

export function decodeOtlpProtobuf(body: Uint8Array): DecodedSpans {
  const spans: TraceSpan[] = [];
  let rejected = 0;
  const top = new Reader(body, 0, body.length);
  fields(top, (field, wire) => {
    if (field !== 1 || wire !== LEN) return false;
    // ResourceSpans
    const rs = top.sub();
    let resource: Attributes = {};
    const scopes: Reader[] = [];
    fields(rs, (f, w) => {
      if (f === 1 && w === LEN) {
        const res = rs.sub();
        fields(res, (rf, rw) => {
          if (rf === 1 && rw === LEN) {
            addKeyValue(res.sub(), resource);
            return true;
          }
          return false;
        });
        return true;
      }
      if (f === 2 && w === LEN) {
        scopes.push(rs.sub());
        return true;
      }
      return false;
    });
    const service = typeof resource['service.name'] === 'string' ? resource['service.name'] : '';
    if (Object.keys(resource).length > SPAN_LIMITS.attributes) resource = Object.fromEntries(Object.entries(resource).slice(0, SPAN_LIMITS.attributes));
    for (const ss of scopes) {
      let scope = '';
      fields(ss, (f, w) => {
        if (f === 1 && w === LEN) {
          const sc = ss.sub();
          fields(sc, (cf, cw) => {
            if (cf === 1 && cw === LEN) {
              scope = clipText(sc.string());
              return true;
            }
            return false;
          });
          return true;
        }
        if (f === 2 && w === LEN) {
          const span = readSpan(ss.sub(), service, scope, resource);
          if (span) spans.push(span);
          else rejected++;
          return true;
        }
        return false;
      });
    }
    return true;
  });
  return { spans, rejected };
}

function readSpan(r: Reader, service: string, scope: string, resource: Attributes): TraceSpan | null {
  const span: TraceSpan = {
    traceId: '',
    spanId: '',
    parentSpanId: '',
    name: '',
    kind: 0,
    startTimeUnixNano: '0',
    endTimeUnixNano: '0',
    service,
    scope,
    attributes: {},
    resource,
    status: 'unset',
    statusMessage: '',
    events: [],
    links: [],
    source: 'external',
  };
  fields(r, (f, w) => {
    switch (f) {
      case 1:
        if (w !== LEN) return false;
        span.traceId = r.hex();
        return true;
      case 2:
        if (w !== LEN) return false;
        span.spanId = r.hex();
        return true;
      case 4:
        if (w !== LEN) return false;
        span.parentSpanId = r.hex();
        return true;
      case 5:
        if (w !== LEN) return false;
        span.name = clipText(r.string());
        return true;
      case 6:
        if (w !== VARINT) return false;
        span.kind = r.varint();
        return true;
      case 7:
        if (w !== FIXED64) return false;
        span.startTimeUnixNano = r.fixed64().toString();
        return true;
      case 8:
        if (w !== FIXED64) return false;
        span.endTimeUnixNano = r.fixed64().toString();
        return true;
      case 9:
        if (w !== LEN) return false;
        if (Object.keys(span.attributes).length < SPAN_LIMITS.attributes) addKeyValue(r.sub(), span.attributes);
        else r.sub();
        return true;
      case 11:
        if (w !== LEN) return false;
        if (span.events.length < SPAN_LIMITS.events) span.events.push(readEvent(r.sub()));
        else r.sub();
        return true;
      case 13:
        if (w !== LEN) return false;
        if (span.links.length < SPAN_LIMITS.links) {
          const link = readLink(r.sub());
          if (link) span.links.push(link);
        } else r.sub();
        return true;
      case 15: {
        if (w !== LEN) return false;
        const st = r.sub();
        fields(st, (sf, sw) => {
          if (sf === 2 && sw === LEN) span.statusMessage = clipText(st.string());
          else if (sf === 3 && sw === VARINT) {
            const code = st.varint();
            span.status = code === 1 ? 'ok' : code === 2 ? 'error' : 'unset';
          } else return false;
          return true;
        });
        return true;
      }
      default:
        return false;
    }
  });
  if (!validId(span.traceId, 16) || !validId(span.spanId, 8)) return null;
  if (span.parentSpanId !== '' && !validId(span.parentSpanId, 8)) span.parentSpanId = '';
  // Loom's own export marks where its spans ran (see otlp-json.ts).
  const loomSource = span.attributes['loom.source'];
  if (loomSource === 'host' || loomSource === 'container') {
    span.source = loomSource;
    delete span.attributes['loom.source'];
  }
  return span;
}

function readEvent(r: Reader): TraceSpanEvent {
  const event: TraceSpanEvent = { timeUnixNano: '0', name: '', attributes: {} };
  fields(r, (f, w) => {
    if (f === 1 && w === FIXED64) event.timeUnixNano = r.fixed64().toString();
    else if (f === 2 && w === LEN) event.name = clipText(r.string());
    else if (f === 3 && w === LEN) {
      if (Object.keys(event.attributes).length < SPAN_LIMITS.attributes) addKeyValue(r.sub(), event.attributes);
      else r.sub();
    } else return false;
    return true;
  });
  return event;
}

function readLink(r: Reader): TraceSpanLink | null {
  const link: TraceSpanLink = { traceId: '', spanId: '', attributes: {} };
  fields(r, (f, w) => {
    if (f === 1 && w === LEN) link.traceId = r.hex();
    else if (f === 2 && w === LEN) link.spanId = r.hex();
    else if (f === 4 && w === LEN) {
      if (Object.keys(link.attributes).length < SPAN_LIMITS.attributes) addKeyValue(r.sub(), link.attributes);
      else r.sub();
    } else return false;
    return true;
  });
  return validId(link.traceId, 16) && validId(link.spanId, 8) ? link : null;
}

/** A KeyValue into `into` (a later duplicate key wins, as in OpenTelemetry's SDKs). */
function addKeyValue(r: Reader, into: Record<string, AttributeValue>, depth = 0): void {
  let key = '';
  let value: AttributeValue = null;
  fields(r, (f, w) => {
    if (f === 1 && w === LEN) key = clipText(r.string());
    else if (f === 2 && w === LEN) value = readAnyValue(r.sub(), depth + 1);
    else return false;
    return true;
  });
  into[key] = value;
}

function readAnyValue(r: Reader, depth: number): AttributeValue {
  if (depth > SPAN_LIMITS.valueDepth) throw new OtlpDecodeError(`an attribute value nests deeper than ${SPAN_LIMITS.valueDepth} levels`);
  let value: AttributeValue = null;
  fields(r, (f, w) => {
    if (f === 1 && w === LEN) value = clipText(r.string());
    else if (f === 2 && w === VARINT) value = r.varint() !== 0;
    else if (f === 3 && w === VARINT) {
      const n = r.varint64();
      value = n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
    } else if (f === 4 && w === FIXED64) value = r.double();
    else if (f === 5 && w === LEN) {
      const list: AttributeValue[] = [];
      const lr = r.sub();
      fields(lr, (lf, lw) => {
        if (lf !== 1 || lw !== LEN) return false;
        const item = readAnyValue(lr.sub(), depth + 1);
        if (list.length < SPAN_LIMITS.valueItems) list.push(item);
        return true;
      });
      value = list;
    } else if (f === 6 && w === LEN) {
      const map: Record<string, AttributeValue> = {};
      const mr = r.sub();
      let count = 0;
      fields(mr, (mf, mw) => {
        if (mf !== 1 || mw !== LEN) return false;
        if (count++ < SPAN_LIMITS.valueItems) addKeyValue(mr.sub(), map, depth + 1);
        else mr.sub();
        return true;
      });
      value = map;
    } else if (f === 7 && w === LEN) value = Buffer.from(r.bytes()).toString('base64');
    else return false;
    return true;
  });
  return value;
}
