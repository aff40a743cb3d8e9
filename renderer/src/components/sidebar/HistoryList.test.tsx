// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import type { RunSummary } from '../../../../shared/api';
import { FakeClient } from '../../test/fake-client';
import { initialState, useApp } from '../../store/app-store';
import { setClient } from '../../store/client';
import { HistoryList } from './HistoryList';

let client: FakeClient;
const now = Date.now();
const runs: RunSummary[] = [
  { id: 'b', startedAt: now - 5_000, status: 'timed_out', exitCode: 137, durationMs: 3210, containerCreated: false, runtime: 'python', title: 'while True: pass' },
  { id: 'a', startedAt: now - 600_000, status: 'ok', exitCode: 0, durationMs: 42, containerCreated: true, runtime: 'node', title: 'console.log(1)' },
];

beforeEach(() => {
  useApp.setState({ ...initialState(), history: runs, historyLoaded: true }, true);
  client = new FakeClient();
  setClient(client);
});
afterEach(() => {
  cleanup();
  setClient(null);
});

describe('HistoryList', () => {
  it('lists runs with status, duration, cold/warm and relative time', () => {
    render(<HistoryList />);
    const items = screen.getAllByTestId('history-item');
    expect(items.map((i) => i.getAttribute('data-run-id'))).toEqual(['b', 'a']);
    expect(items[0]?.getAttribute('data-status')).toBe('timed_out');
    expect(items[0]?.textContent).toContain('while True: pass');
    expect(items[0]?.textContent).toContain('3.21 s');
    expect(within(items[0] as HTMLElement).getByTestId('history-start-badge').textContent).toBe('warm');
    expect(within(items[1] as HTMLElement).getByTestId('history-start-badge').textContent).toBe('cold');
    expect(items[1]?.textContent).toContain('10 min ago');
  });

  it('deletes a run', async () => {
    render(<HistoryList />);
    await act(async () => {
      fireEvent.click(within(screen.getAllByTestId('history-item')[1] as HTMLElement).getByTestId('history-delete'));
    });
    expect(client.deleted).toEqual(['a']);
    expect(screen.getAllByTestId('history-item')).toHaveLength(1);
  });

  it('moves between items with the arrow keys', () => {
    render(<HistoryList />);
    const buttons = document.querySelectorAll<HTMLElement>('.history-open');
    buttons[0]?.focus();
    fireEvent.keyDown(buttons[0] as HTMLElement, { key: 'ArrowDown' });
    expect(document.activeElement).toBe(buttons[1]);
  });
});
