// A big, realistic-looking trace made up on the spot, as OTLP JSON: an agent loop of steps, each
// with tool calls nested a few levels. For the 100,000-span e2e test and the benchmarks.
import { encodeOtlpJson, type OtlpJsonExport } from './otlp-json';
import type { TraceSpan } from '../../../shared/traces/types';

export function syntheticTrace(traceId: string, spanCount: number, startNs = 1_700_000_000_000_000_000n): TraceSpan[] {
  const spans: TraceSpan[] = [];
  const id = (n: number): string => (n + 1).toString(16).padStart(16, '0');
  const make = (n: number, parent: number | null, name: string, start: bigint, durationNs: bigint, depth: number): TraceSpan => ({
    traceId,
    spanId: id(n),
    parentSpanId: parent === null ? '' : id(parent),
    name,
    kind: depth === 0 ? 2 : 1,
    startTimeUnixNano: start.toString(),
    endTimeUnixNano: (start + durationNs).toString(),
    service: depth < 2 ? 'agent' : 'tools',
    scope: 'synthetic',
    attributes: { 'step.index': n, depth },
    resource: { 'service.name': depth < 2 ? 'agent' : 'tools' },
    status: n % 997 === 0 && n > 0 ? 'error' : 'unset',
    statusMessage: n % 997 === 0 && n > 0 ? 'synthetic failure' : '',
    events: [],
    links: [],
    source: 'external',
  });
  const micro = 1_000n;
  spans.push(make(0, null, 'agent.run', startNs, BigInt(spanCount) * 10n * micro, 0));
  // Steps of 10 spans: step > (llm.call, tool.call > (exec > (parse, io x2)), memory.write ...).
  let n = 1;
  let t = startNs;
  while (n < spanCount) {
    const step = n;
    spans.push(make(n++, 0, 'agent.step', t, 95n * micro, 1));
    const names = ['llm.call', 'tool.call', 'sandbox.exec', 'parse', 'io.read', 'io.write', 'memory.write', 'rank', 'format'];
    let parent = step;
    for (let k = 0; k < names.length && n < spanCount; k++) {
      const depth = k < 3 ? 2 + k : 4;
      spans.push(make(n, parent, names[k] as string, t + BigInt(k + 1) * 9n * micro, 8n * micro, depth));
      if (k < 2) parent = n;
      n++;
    }
    t += 100n * micro;
  }
  return spans;
}

export function syntheticOtlpJson(traceId: string, spanCount: number): OtlpJsonExport {
  return encodeOtlpJson(syntheticTrace(traceId, spanCount));
}
