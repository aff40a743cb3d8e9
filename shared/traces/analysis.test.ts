import { describe, expect, it } from 'vitest';
import { buildSpanTree } from '../span-tree';
import { compareTraces } from './compare';
import { criticalPath } from './critical-path';
import type { TraceSpan } from './types';
import { toViewSpan } from './view-span';

const T = '11111111111111111111111111111111';
const BASE = 1_700_000_000_000_000_000n;
let nextId = 1;

function span(name: string, parent: TraceSpan | null, startMs: number, endMs: number, attributes: TraceSpan['attributes'] = {}): TraceSpan {
  return {
    traceId: T,
    spanId: (nextId++).toString(16).padStart(16, '0'),
    parentSpanId: parent?.spanId ?? '',
    name,
    kind: 1,
    startTimeUnixNano: String(BASE + BigInt(Math.round(startMs * 1e6))),
    endTimeUnixNano: String(BASE + BigInt(Math.round(endMs * 1e6))),
    service: 's',
    scope: '',
    attributes,
    resource: {},
    status: 'unset',
    statusMessage: '',
    events: [],
    links: [],
    source: 'external',
  };
}

describe('criticalPath', () => {
  it('follows what each parent waited for', () => {
    const root = span('root', null, 0, 100);
    const fetch = span('fetch', root, 0, 40);
    const parallelShort = span('parallel-short', root, 5, 20);
    const compute = span('compute', root, 40, 95);
    const inner = span('inner', compute, 50, 90);
    const innerEarly = span('inner-early', compute, 41, 45);
    const spans = [root, fetch, parallelShort, compute, inner, innerEarly];
    const path = criticalPath(buildSpanTree(spans.map(toViewSpan)));
    const names = spans.filter((s) => path.has(s.spanId)).map((s) => s.name);
    expect(names).toEqual(['root', 'fetch', 'compute', 'inner', 'inner-early']);
  });
});

describe('compareTraces', () => {
  it('matches spans by path of names: added, removed, slower, faster, same, attribute differences', () => {
    const a1 = span('agent.step', null, 0, 100);
    const a2 = span('tool.call', a1, 10, 30, { model: 'small', retries: 0 });
    const a3 = span('docker.execute', a2, 12, 28);
    const a4 = span('cache.lookup', a1, 40, 41);
    const b1 = span('agent.step', null, 0, 100.01);
    const b2 = span('tool.call', b1, 10, 80, { model: 'large', retries: 0, region: 'eu' });
    const b3 = span('docker.execute', b2, 12, 20);
    const b4 = span('tool.call', b1, 85, 90);
    const rows = compareTraces([a1, a2, a3, a4], [b1, b2, b3, b4]);
    expect(rows.map((r) => [r.path, r.change])).toEqual([
      ['agent.step', 'same'],
      ['agent.step > tool.call', 'slower'],
      ['agent.step > tool.call > docker.execute', 'faster'],
      ['agent.step > cache.lookup', 'removed'],
      ['agent.step > tool.call#2', 'added'],
    ]);
    expect(rows[1]).toMatchObject({ beforeMs: 20, afterMs: 70, depth: 1 });
    expect(rows[1]?.attributes).toEqual([
      { key: 'model', before: 'small', after: 'large' },
      { key: 'region', after: 'eu' },
    ]);
  });
});
