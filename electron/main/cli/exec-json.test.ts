import { create, fromJson, toJson, type JsonObject } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { ExecuteResponseSchema, SpanSource, SpanStatus, type ExecuteResponse } from '../../../shared/gen/loom/v1/docker_pb';
import { responseJson } from './exec-json';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

function response(overrides: Partial<ExecuteResponse> = {}): ExecuteResponse {
  const base = create(ExecuteResponseSchema, {
    exitCode: 7,
    stdout: utf8('héllo\n'),
    stderr: utf8('oops\n'),
    durationMs: 123.456,
    containerId: 'c'.repeat(64),
    containerCreated: true,
    timings: { imageMs: 1, containerMs: 2.5, packagesMs: 0, runMs: 40 },
    traceId: 'a'.repeat(32),
    spans: [
      {
        traceId: 'a'.repeat(32),
        spanId: 'b'.repeat(16),
        name: 'docker.execute',
        startTimeUnixNano: 1_700_000_000_000_000_000n,
        endTimeUnixNano: 1_700_000_000_123_456_789n,
        attributes: { 'loom.exit_code': 7 },
        status: SpanStatus.ERROR,
        statusMessage: 'exit code 7',
        source: SpanSource.HOST,
      },
      { traceId: 'a'.repeat(32), spanId: 'd'.repeat(16), parentSpanId: 'b'.repeat(16), name: 'load', attributes: {}, status: SpanStatus.OK, source: SpanSource.CONTAINER },
    ],
    usage: { wallMs: 30.5, cpuMs: 12, peakMemoryKb: 9_876n, via: 'runner' },
  });
  return Object.assign(base, overrides);
}

describe('loom exec --json', () => {
  it('is the proto3 JSON of the response but for stdout and stderr, which are UTF-8 text', () => {
    const r = response();
    const json = responseJson(r);
    expect(json.stdout).toBe('héllo\n');
    expect(json.stderr).toBe('oops\n');
    // Put back as base64, it is exactly what protobuf-es reads: nothing else differs.
    const asProto3 = { ...json, stdout: Buffer.from(r.stdout).toString('base64'), stderr: Buffer.from(r.stderr).toString('base64') };
    expect(fromJson(ExecuteResponseSchema, asProto3)).toEqual(r);
  });

  it('spells enums and 64-bit integers as the app stores them', () => {
    const r = response();
    const json = responseJson(r);
    const stored = toJson(ExecuteResponseSchema, r);
    expect(json.spans?.map((s) => [s.status, s.source])).toEqual([
      ['SPAN_STATUS_ERROR', 'SPAN_SOURCE_HOST'],
      ['SPAN_STATUS_OK', 'SPAN_SOURCE_CONTAINER'],
    ]);
    expect(json.spans?.map((s) => [s.status, s.source])).toEqual(stored.spans?.map((s) => [s.status, s.source]));
    expect(json.spans?.[0]).toMatchObject({ startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000123456789', attributes: { 'loom.exit_code': 7 } });
    expect(json.usage).toEqual({ wallMs: 30.5, cpuMs: 12, peakMemoryKb: '9876', via: 'runner' });
    expect(json.durationMs).toBe(123.456);
  });

  it('has every key the README documents, false, 0 and empty ones included', () => {
    const json = responseJson(response({ exitCode: 0, containerCreated: false, stdout: new Uint8Array(), spans: [] })) as JsonObject;
    for (const key of [
      'containerId', 'exitCode', 'stdout', 'stderr', 'durationMs', 'containerCreated', 'timedOut', 'truncated',
      'stdoutTruncated', 'stderrTruncated', 'oomKilled', 'timings', 'usage', 'traceId', 'spans', 'malformedSpans', 'droppedSpans',
      'outputs', 'artifacts', 'compileError', 'compileCached',
    ]) {
      expect(json, key).toHaveProperty([key]);
    }
    expect(json).toMatchObject({ exitCode: 0, stdout: '', containerCreated: false, timedOut: false, truncated: false, spans: [], malformedSpans: 0 });
    expect(json.timings).toEqual({ imageMs: 1, containerMs: 2.5, packagesMs: 0, runMs: 40, compileMs: 0 });
    // A span's empty fields are there too: the root's parentSpanId, a statusMessage there is none of.
    const span = responseJson(response()).spans?.[1];
    expect(span).toMatchObject({ parentSpanId: 'b'.repeat(16), statusMessage: '' });
    expect(responseJson(response()).spans?.[0]).toMatchObject({ parentSpanId: '' });
  });

  it('shows bytes that are not UTF-8 as U+FFFD, not base64', () => {
    const json = responseJson(response({ stdout: Uint8Array.of(0x6f, 0x6b, 0xff, 0x0a) }));
    expect(json.stdout).toBe('ok\uFFFD\n');
  });

  it('decodes only the bytes of the output, not the rest of a shared buffer', () => {
    const shared = utf8('before|inside|after');
    const json = responseJson(response({ stdout: shared.subarray(7, 13) }));
    expect(json.stdout).toBe('inside');
  });
});
