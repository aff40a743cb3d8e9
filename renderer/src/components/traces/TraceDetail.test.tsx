// @vitest-environment jsdom
// A big trace opens in two steps: its head paints first (the whole trace's counts and scale,
// the first rows in display order), then the whole trace replaces it with the same first rows.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { act, cleanup, render, screen, within } from '@testing-library/react';
import type { TraceRecord, TraceSpan } from '../../../../shared/api';
import { FakeClient } from '../../test/fake-client';
import { withViewport } from '../../test/dom';
import { initialState, useApp } from '../../store/app-store';
import { setClient } from '../../store/client';
import { HEAD_SPANS, TraceDetail } from './TraceDetail';

withViewport();
const TRACE = 'c'.repeat(32);
const T0 = 1_700_000_000_000_000_000n;

function span(k: number, parent: number | null, name: string): TraceSpan {
  const id = (n: number): string => (n + 1).toString(16).padStart(16, '0');
  const start = T0 + BigInt(k) * 1000n;
  return {
    traceId: TRACE,
    spanId: id(k),
    parentSpanId: parent === null ? '' : id(parent),
    name,
    kind: 1,
    startTimeUnixNano: String(start),
    endTimeUnixNano: String(start + (parent === null ? 10_000_000n : 500n)),
    service: 'agent',
    scope: '',
    attributes: {},
    resource: { 'service.name': 'agent' },
    status: k === 7 ? 'error' : 'unset',
    statusMessage: '',
    events: [],
    links: [],
    source: 'external',
  };
}

// More spans than a head holds, sent in reverse: the head must still be in display order.
const SPANS = [span(0, null, 'agent.run'), ...Array.from({ length: HEAD_SPANS + 300 }, (_, k) => span(k + 1, k % 3 === 0 ? 0 : k, `step.${k}`))].reverse();
const RECORD: TraceRecord = {
  summary: { traceId: TRACE, rootName: 'agent.run', rootService: 'agent', complete: true, services: ['agent'], startMs: 0, durationMs: 10, spanCount: SPANS.length, errorCount: 1, updatedAt: 0, droppedSpans: 0 },
  spans: SPANS,
};

class SlowWholeClient extends FakeClient {
  release: () => void = () => {};
  override async getTrace(traceId: string): Promise<TraceRecord | null> {
    await new Promise<void>((resolve) => (this.release = resolve));
    return super.getTrace(traceId);
  }
}

let client: SlowWholeClient;
beforeEach(() => {
  useApp.setState(initialState(), true);
  client = new SlowWholeClient();
  client.traces.set(TRACE, RECORD);
  setClient(client);
});
afterEach(() => {
  cleanup();
  setClient(null);
});

const settle = (): Promise<void> => act(async () => new Promise((resolve) => setTimeout(resolve, 10)));
const rowNames = (): string[] => screen.getAllByTestId('trace-row').map((r) => within(r).getByTestId('trace-row-name').textContent ?? '');

describe('TraceDetail', () => {
  it('paints the head first, then the whole trace with the same first rows', async () => {
    render(<TraceDetail traceId={TRACE} others={[]} collector={null} onDeleted={() => {}} />);
    await settle();
    expect(client.headsFetched).toEqual([[TRACE, HEAD_SPANS]]);
    const detail = screen.getByTestId('trace-detail');
    expect(detail.getAttribute('data-complete')).toBe('false');
    expect(screen.getByTestId('trace-loading-rest').textContent).toContain(`${SPANS.length - HEAD_SPANS} more spans`);
    // The whole trace's count, not the head's.
    expect(screen.getByTestId('trace-view').textContent).toContain(`${SPANS.length} spans`);
    const headRows = rowNames();
    expect(headRows.slice(0, 3)).toEqual(['agent.run', 'step.0', 'step.1']);

    await act(async () => client.release());
    await settle();
    expect(detail.getAttribute('data-complete')).toBe('true');
    expect(screen.queryByTestId('trace-loading-rest')).toBeNull();
    expect(rowNames().slice(0, headRows.length)).toEqual(headRows);
  });
});
