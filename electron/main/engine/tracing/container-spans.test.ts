import { describe, expect, it } from 'vitest';
import { SpanSource, SpanStatus } from '../../../../shared/gen/loom/v1/docker_pb';
import { MAX_ATTRIBUTES, MAX_NESTING, MAX_STRING_BYTES, parseContainerSpanLine, truncateUtf8 } from './container-spans';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
const PARENT = '53995c3f42cd8ad8';

const record = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  traceId: TRACE,
  spanId: SPAN,
  parentSpanId: PARENT,
  name: 'load_data',
  startTimeUnixNano: '1700000000123456789',
  endTimeUnixNano: '1700000000223456789',
  attributes: { rows: 3, file: 'data.csv', ok: true, nothing: null },
  status: 'error',
  statusMessage: 'ValueError: bad',
  ...overrides,
});
const parse = (overrides: Record<string, unknown> = {}) => parseContainerSpanLine(JSON.stringify(record(overrides)), TRACE);
const without = (key: string) => {
  const r = record();
  delete r[key];
  return parseContainerSpanLine(JSON.stringify(r), TRACE);
};

describe('parseContainerSpanLine: valid records', () => {
  it('turns a full record into a CONTAINER span with exact times', () => {
    const span = parse();
    expect(span).toMatchObject({
      traceId: TRACE,
      spanId: SPAN,
      parentSpanId: PARENT,
      name: 'load_data',
      startTimeUnixNano: 1_700_000_000_123_456_789n,
      endTimeUnixNano: 1_700_000_000_223_456_789n,
      attributes: { rows: 3, file: 'data.csv', ok: true, nothing: null },
      status: SpanStatus.ERROR,
      statusMessage: 'ValueError: bad',
      source: SpanSource.CONTAINER,
    });
  });

  it('maps each status', () => {
    expect(parse({ status: 'ok' })?.status).toBe(SpanStatus.OK);
    expect(parse({ status: 'unset' })?.status).toBe(SpanStatus.UNSPECIFIED);
    expect(parse({ status: 'error' })?.status).toBe(SpanStatus.ERROR);
  });

  it('accepts a root span ("" or no parent) and defaults the optional fields', () => {
    expect(parse({ parentSpanId: '' })?.parentSpanId).toBe('');
    const span = parseContainerSpanLine(
      JSON.stringify({ traceId: TRACE, spanId: SPAN, name: 'x', startTimeUnixNano: '5', endTimeUnixNano: '5' }),
      TRACE,
    );
    expect(span).toMatchObject({ parentSpanId: '', attributes: {}, status: SpanStatus.UNSPECIFIED, statusMessage: '' });
  });

  it('accepts uppercase hex ids (and the expected id in either case), returning lowercase', () => {
    const span = parseContainerSpanLine(
      JSON.stringify(record({ traceId: TRACE.toUpperCase(), spanId: SPAN.toUpperCase(), parentSpanId: PARENT.toUpperCase() })),
      TRACE.toUpperCase(),
    );
    expect(span).toMatchObject({ traceId: TRACE, spanId: SPAN, parentSpanId: PARENT });
  });

  it('tolerates surrounding whitespace, a CR line end, unknown keys, and the uint64 maximum', () => {
    const line = ` ${JSON.stringify(record({ extra: [1, 2], endTimeUnixNano: '18446744073709551615' }))}\r`;
    expect(parseContainerSpanLine(line, TRACE)?.endTimeUnixNano).toBe(18_446_744_073_709_551_615n);
  });

  it('accepts a zero-length span and a name of exactly 1024 characters', () => {
    expect(parse({ endTimeUnixNano: '1700000000123456789' })).not.toBeNull();
    expect(parse({ name: 'n'.repeat(1024) })?.name).toHaveLength(1024);
  });
});

describe('parseContainerSpanLine: malformed records are rejected', () => {
  it.each([
    ['empty line', ''],
    ['not JSON', 'load_data took 3ms'],
    ['truncated JSON', JSON.stringify(record()).slice(0, -1)],
    ['a JSON array', JSON.stringify([record()])],
    ['a JSON string', JSON.stringify('span')],
    ['JSON null', 'null'],
  ])('%s', (_label, line) => {
    expect(parseContainerSpanLine(line, TRACE)).toBeNull();
  });

  it.each<[string, Record<string, unknown>]>([
    ['trace id of another trace', { traceId: 'a'.repeat(32) }],
    ['trace id too short', { traceId: TRACE.slice(1) }],
    ['trace id too long', { traceId: `${TRACE}0` }],
    ['trace id not hex', { traceId: `${TRACE.slice(1)}g` }],
    ['trace id all zero', { traceId: '0'.repeat(32) }],
    ['trace id a number', { traceId: 1 }],
    ['span id too short', { spanId: SPAN.slice(1) }],
    ['span id not hex', { spanId: 'zzzzzzzzzzzzzzzz' }],
    ['span id all zero', { spanId: '0'.repeat(16) }],
    ['span id missing', { spanId: undefined }],
    ['span id with spaces', { spanId: ` ${SPAN}` }],
    ['parent id wrong length', { parentSpanId: PARENT.slice(2) }],
    ['parent id all zero', { parentSpanId: '0'.repeat(16) }],
    ['parent id null', { parentSpanId: null }],
    ['parent id a number', { parentSpanId: 5 }],
    ['name empty', { name: '' }],
    ['name over 1024 characters', { name: 'n'.repeat(1025) }],
    ['name not a string', { name: ['x'] }],
    ['start time a number', { startTimeUnixNano: 1_700_000_000 }],
    ['start time negative', { startTimeUnixNano: '-1' }],
    ['start time fractional', { startTimeUnixNano: '1.5' }],
    ['start time in exponent form', { startTimeUnixNano: '1e18' }],
    ['start time empty', { startTimeUnixNano: '' }],
    ['end time past uint64', { endTimeUnixNano: '18446744073709551616' }],
    ['end time missing', { endTimeUnixNano: undefined }],
    ['end before start', { endTimeUnixNano: '1700000000123456788' }],
    ['attributes an array', { attributes: [1, 2] }],
    ['attributes a string', { attributes: 'k=v' }],
    ['attributes null', { attributes: null }],
    ['status unknown', { status: 'failed' }],
    ['status uppercase', { status: 'ERROR' }],
    ['status a number', { status: 2 }],
    ['status an inherited key', { status: 'toString' }],
    ['status message not a string', { statusMessage: { text: 'x' } }],
  ])('%s', (_label, overrides) => {
    expect(parse(overrides)).toBeNull();
  });

  it('rejects a missing trace id or name', () => {
    expect(without('traceId')).toBeNull();
    expect(without('name')).toBeNull();
    expect(without('startTimeUnixNano')).toBeNull();
  });
});

describe('parseContainerSpanLine: oversized attributes are trimmed, not rejected', () => {
  it(`keeps the first ${MAX_ATTRIBUTES} keys`, () => {
    const attributes = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, i]));
    const kept = parse({ attributes })?.attributes ?? {};
    expect(Object.keys(kept)).toHaveLength(MAX_ATTRIBUTES);
    expect(kept.k0).toBe(0);
    expect(kept[`k${MAX_ATTRIBUTES - 1}`]).toBe(MAX_ATTRIBUTES - 1);
    expect(kept[`k${MAX_ATTRIBUTES}`]).toBeUndefined();
  });

  it('cuts string values to 8 KiB of UTF-8 without splitting a character', () => {
    const attributes = { ascii: 'a'.repeat(20_000), euro: '€'.repeat(5000), short: 'ok' };
    const kept = parse({ attributes })?.attributes ?? {};
    expect(kept.ascii).toBe('a'.repeat(MAX_STRING_BYTES));
    // '€' is 3 bytes: 2730 of them fill 8190 bytes; a 2731st would not fit.
    expect(kept.euro).toBe('€'.repeat(2730));
    expect(kept.short).toBe('ok');
  });

  it('cuts the status message to 8 KiB too', () => {
    expect(parse({ statusMessage: 'x'.repeat(10_000) })?.statusMessage).toHaveLength(MAX_STRING_BYTES);
  });

  it('keeps small nested values as structure and turns large ones into cut JSON text', () => {
    const attributes = {
      tags: ['a', 'b'],
      point: { x: 1, y: [2, 3] },
      big: { blob: 'z'.repeat(10_000) },
    };
    const kept = parse({ attributes })?.attributes ?? {};
    expect(kept.tags).toEqual(['a', 'b']);
    expect(kept.point).toEqual({ x: 1, y: [2, 3] });
    expect(typeof kept.big).toBe('string');
    expect(kept.big).toHaveLength(MAX_STRING_BYTES);
    expect(String(kept.big).startsWith('{"blob":"zzz')).toBe(true);
  });

  it(`turns values nested deeper than ${MAX_NESTING} levels into JSON text`, () => {
    const nest = (levels: number): unknown => (levels === 0 ? 1 : [nest(levels - 1)]);
    const kept = parse({ attributes: { ok: nest(MAX_NESTING), deep: nest(MAX_NESTING + 1) } })?.attributes ?? {};
    expect(kept.ok).toEqual(nest(MAX_NESTING));
    expect(kept.deep).toBe(JSON.stringify(nest(MAX_NESTING + 1)));
    // Far deeper than JSON.stringify manages: still no throw, the span is kept.
    const line = JSON.stringify(record({ attributes: {} })).replace('"attributes":{}', `"attributes":{"d":${'['.repeat(200_000)}${']'.repeat(200_000)}}`);
    expect(parseContainerSpanLine(line, TRACE)).not.toBeNull();
  });

  it('turns numbers JSON.parse made infinite into strings (a Struct cannot hold them)', () => {
    const line = JSON.stringify(record({ attributes: {} })).replace('"attributes":{}', '"attributes":{"huge":1e999,"list":[-1e999]}');
    expect(parseContainerSpanLine(line, TRACE)?.attributes).toEqual({ huge: 'Infinity', list: ['-Infinity'] });
  });

  it('keeps a "__proto__" key as a plain key', () => {
    const line = JSON.stringify(record({ attributes: {} })).replace('"attributes":{}', '"attributes":{"__proto__":{"polluted":true}}');
    const attributes = parseContainerSpanLine(line, TRACE)?.attributes ?? {};
    expect(Object.getPrototypeOf(attributes)).toBe(Object.prototype);
    expect(Object.keys(attributes)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('truncateUtf8', () => {
  it.each([
    ['a😀b', 1, 'a'],
    ['a😀b', 4, 'a'],
    ['a😀b', 5, 'a😀'],
    ['a😀b', 6, 'a😀b'],
    ['é', 1, ''],
  ])('never splits a multi-byte character: %s in %i bytes is %j', (value, bytes, expected) => {
    expect(truncateUtf8(value, bytes)).toBe(expected);
  });
});
