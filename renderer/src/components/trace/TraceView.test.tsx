// @vitest-environment jsdom
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import type { SpanJson } from '../../../../shared/gen/loom/v1/docker_pb';
import { buildTraceModel, spanFromJson } from '../../lib/spans';
import { withViewport } from '../../test/dom';
import { TraceView } from './TraceView';

withViewport();
afterEach(cleanup);

const T0 = 1_700_000_000_000_000_000n;
const at = (ms: number): string => String(T0 + BigInt(Math.round(ms * 1e6)));

function span(id: string, parent: string, name: string, startMs: number, endMs: number, extra: Partial<SpanJson> = {}): SpanJson {
  return { traceId: 'a'.repeat(32), spanId: id, parentSpanId: parent, name, startTimeUnixNano: at(startMs), endTimeUnixNano: at(endMs), source: 'SPAN_SOURCE_CONTAINER', ...extra };
}

const SPANS: SpanJson[] = [
  span('root', '', 'docker.execute', 0, 100, { source: 'SPAN_SOURCE_HOST' }),
  span('run', 'root', 'docker.run', 10, 90, { source: 'SPAN_SOURCE_HOST' }),
  span('load', 'run', 'load_data', 20, 40, { attributes: { rows: 5, source: 'memory' } }),
  span('proc', 'run', 'process_data', 45, 80, { status: 'SPAN_STATUS_ERROR', statusMessage: 'ValueError: bad row' }),
  span('img', 'root', 'docker.image', 1, 5, { source: 'SPAN_SOURCE_HOST' }),
];

const renderTrace = (spans: SpanJson[] = SPANS) => render(<TraceView model={buildTraceModel(spans.map(spanFromJson))} traceId={'a'.repeat(32)} />);

const rowNames = (): string[] => screen.getAllByTestId('trace-row').map((r) => within(r).getByTestId('trace-row-name').textContent ?? '');

describe('TraceView', () => {
  it('renders nested spans in tree order with their depth', () => {
    renderTrace();
    expect(rowNames()).toEqual(['docker.execute', 'docker.image', 'docker.run', 'load_data', 'process_data']);
    const levels = screen.getAllByTestId('trace-row').map((r) => Number(r.getAttribute('aria-level')));
    expect(levels).toEqual([1, 2, 2, 3, 3]);
    // Indentation grows with depth.
    const pad = (name: string): number => {
      const row = screen.getAllByTestId('trace-row').find((r) => r.textContent?.includes(name));
      return parseFloat((row?.querySelector('.trace-name-cell') as HTMLElement).style.paddingLeft);
    };
    expect(pad('docker.run')).toBeGreaterThan(pad('docker.execute'));
    expect(pad('load_data')).toBeGreaterThan(pad('docker.run'));
  });

  it('collapsing a span hides its children, expanding shows them again', () => {
    renderTrace();
    const runRow = screen.getAllByTestId('trace-row').find((r) => r.getAttribute('data-span-id') === 'run') as HTMLElement;
    expect(runRow.getAttribute('aria-expanded')).toBe('true');
    fireEvent.click(within(runRow).getByTestId('trace-toggle'));
    expect(rowNames()).toEqual(['docker.execute', 'docker.image', 'docker.run']);
    const collapsed = screen.getAllByTestId('trace-row').find((r) => r.getAttribute('data-span-id') === 'run') as HTMLElement;
    expect(collapsed.getAttribute('aria-expanded')).toBe('false');
    fireEvent.click(within(collapsed).getByTestId('trace-toggle'));
    expect(rowNames()).toHaveLength(5);
  });

  it('collapses and expands with the keyboard', () => {
    renderTrace();
    const tree = screen.getByTestId('trace-tree');
    fireEvent.click(screen.getAllByTestId('trace-row')[2] as HTMLElement); // docker.run
    fireEvent.keyDown(tree, { key: 'ArrowLeft' });
    expect(rowNames()).toHaveLength(3);
    fireEvent.keyDown(tree, { key: 'ArrowRight' });
    expect(rowNames()).toHaveLength(5);
    fireEvent.keyDown(tree, { key: 'ArrowDown' });
    expect(screen.getByTestId('span-details').textContent).toContain('load_data');
  });

  it('marks error spans', () => {
    renderTrace();
    const errorRows = screen.getAllByTestId('trace-row').filter((r) => r.getAttribute('data-error') === 'true');
    expect(errorRows.map((r) => r.getAttribute('data-span-id'))).toEqual(['proc']);
    expect(errorRows[0]?.className).toContain('is-error');
    expect(errorRows[0]?.getAttribute('aria-label')).toContain('error');
    expect(screen.getByTestId('trace-error-count').textContent).toBe('1 error');
  });

  it('shows the selected span: attributes, ids, times, status message', () => {
    renderTrace();
    expect(screen.queryByTestId('span-details')).toBeNull();
    fireEvent.click(screen.getAllByTestId('trace-row').find((r) => r.textContent?.includes('load_data')) as HTMLElement);
    const details = screen.getByTestId('span-details');
    const attrs = within(details).getByTestId('span-attributes');
    expect(attrs.textContent).toContain('rows');
    expect(attrs.textContent).toContain('5');
    expect(attrs.textContent).toContain('memory');
    expect(details.textContent).toContain('load');
    expect(details.textContent).toContain('20.0 ms'); // duration
    expect(details.textContent).toContain('+20.0 ms'); // offset from the trace's start

    fireEvent.click(screen.getAllByTestId('trace-row').find((r) => r.textContent?.includes('process_data')) as HTMLElement);
    expect(screen.getByTestId('span-status-message').textContent).toContain('ValueError: bad row');
  });

  it('places bars on the waterfall by start and end', () => {
    renderTrace();
    const row = screen.getAllByTestId('trace-row').find((r) => r.getAttribute('data-span-id') === 'load') as HTMLElement;
    const bar = row.querySelector('.trace-bar') as HTMLElement;
    expect(parseFloat(bar.style.left)).toBeCloseTo(20);
    expect(bar.style.width).toContain('20%');
  });

  it('mounts only a window of rows for 10,000 spans', () => {
    const many: SpanJson[] = [span('s0', '', 'root', 0, 10_000)];
    for (let i = 1; i < 10_000; i++) many.push(span(`s${i}`, `s${Math.floor((i - 1) / 10)}`, `op ${i}`, i, i + 1));
    const started = performance.now();
    renderTrace(many);
    const rows = screen.getAllByTestId('trace-row');
    expect(rows.length).toBeGreaterThan(10);
    expect(rows.length).toBeLessThan(200);
    expect(screen.getByTestId('trace-tree').getAttribute('role')).toBe('tree');
    expect(rows[0]?.getAttribute('aria-setsize')).toBe('10000');
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('finds spans by name', () => {
    renderTrace();
    fireEvent.change(screen.getByTestId('trace-search'), { target: { value: 'process' } });
    expect(screen.getAllByTestId('trace-row').filter((r) => r.className.includes('is-match'))).toHaveLength(1);
    fireEvent.keyDown(screen.getByTestId('trace-search'), { key: 'Enter' });
    expect(screen.getByTestId('span-details').textContent).toContain('process_data');
  });
});
