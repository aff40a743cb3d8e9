// @vitest-environment jsdom
import { afterEach, describe, expect, it } from 'vitest';
import { act, cleanup, render, screen } from '@testing-library/react';
import { OutputBuffer } from '../../lib/output-buffer';
import { withViewport } from '../../test/dom';
import { OutputView } from './OutputView';

withViewport();
afterEach(cleanup);

const frame = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 120));

describe('OutputView', () => {
  it('shows stdout and stderr segments in arrival order, and what arrives later', async () => {
    const buffer = new OutputBuffer();
    buffer.append('stdout', 'hello\n');
    buffer.append('stderr', 'boom\n');
    render(<OutputView buffer={buffer} wrap={false} />);
    expect(screen.getAllByTestId('stdout-segment').map((s) => s.textContent)).toEqual(['hello']);
    expect(screen.getAllByTestId('stderr-segment').map((s) => s.textContent)).toEqual(['boom']);
    const lines = [...document.querySelectorAll('.output-line')].map((l) => l.textContent);
    expect(lines).toEqual(['hello', 'boom']);

    await act(async () => {
      buffer.append('stdout', 'later\n');
      await frame();
    });
    expect(screen.getAllByTestId('stdout-segment').map((s) => s.textContent)).toEqual(['hello', 'later']);
  });

  it('renders a window of 100,000 lines, not all of them', () => {
    const buffer = new OutputBuffer();
    for (let i = 0; i < 100_000; i++) buffer.append('stdout', `line ${i}\n`);
    render(<OutputView buffer={buffer} wrap={false} />);
    const rendered = document.querySelectorAll('.output-line').length;
    expect(rendered).toBeGreaterThan(10);
    expect(rendered).toBeLessThan(200);
  });

  it('says when old output was dropped', () => {
    const buffer = new OutputBuffer(1000);
    for (let i = 0; i < 500; i++) buffer.append('stdout', `line ${i}\n`);
    render(<OutputView buffer={buffer} wrap />);
    expect(screen.getByRole('note').textContent).toMatch(/Earlier output not shown/);
  });
});
