// @vitest-environment jsdom
// The pull block as a run shows it: fed the engine's own pull stream for python:3.11-slim (the
// messages of POST /images/create, as images.ts forwards them) through the store's reducer.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render, screen, within } from '@testing-library/react';
import type { ExecuteEventJson } from '../../../../shared/gen/loom/v1/docker_pb';
import { applyProgress, emptyProgress, type PullState } from '../../lib/run-progress';
import { PullProgress } from './PullProgress';

afterEach(cleanup);

const IMAGE = 'python:3.11-slim';
const BASE = 'a2318d6c47ec';
const LIBS = '0e6ad4ab6a95';
const PYTHON = '57e4ab0cd0cf';
const SIZES: Record<string, number> = { [BASE]: 29_126_484, [LIBS]: 3_508_512, [PYTHON]: 16_204_730 };

const pull = (layer: string, status: string, current?: number, total?: number): ExecuteEventJson => ({
  pull: { image: IMAGE, status, ...(layer ? { layer } : {}), ...(current !== undefined ? { current, total } : {}) },
});

/** What the engine sends, in order: the tag line first (its "id" is the tag), then per layer. */
const STREAM: ExecuteEventJson[] = [
  pull('3.11-slim', 'Pulling from library/python'),
  pull(BASE, 'Pulling fs layer'),
  pull(LIBS, 'Pulling fs layer'),
  pull(PYTHON, 'Pulling fs layer'),
  pull(LIBS, 'Waiting'),
  pull(PYTHON, 'Waiting'),
  pull(BASE, 'Downloading', 261_776, SIZES[BASE]),
  pull(BASE, 'Downloading', 14_600_000, SIZES[BASE]),
  pull(LIBS, 'Downloading', 1_200_000, SIZES[LIBS]),
  pull(LIBS, 'Verifying Checksum'),
  pull(LIBS, 'Download complete'),
  pull(BASE, 'Downloading', SIZES[BASE], SIZES[BASE]),
  pull(BASE, 'Verifying Checksum'),
  pull(BASE, 'Download complete'),
  // Extraction counts from 0 again, with its own total.
  pull(BASE, 'Extracting', 294_912, SIZES[BASE]),
  pull(PYTHON, 'Downloading', 8_000_000, SIZES[PYTHON]),
  pull(BASE, 'Extracting', 20_000_000, SIZES[BASE]),
  pull(BASE, 'Pull complete'),
  pull(LIBS, 'Extracting', 3_508_512, SIZES[LIBS]),
  pull(LIBS, 'Pull complete'),
  pull(PYTHON, 'Download complete'),
  pull(PYTHON, 'Extracting', 16_204_730, SIZES[PYTHON]),
  pull(PYTHON, 'Pull complete'),
  pull('', 'Digest: sha256:6ba3ec3a0e6d0b5e9b7a5b5f3c1e1d5d2c3b4a5968778695a4b3c2d1e0f1a2b3'),
  pull('', `Status: Downloaded newer image for ${IMAGE}`),
];

/** The pull state after the first `n` messages. */
const after = (n: number): PullState => {
  const state = applyProgress(emptyProgress(), STREAM.slice(0, n)).pull;
  if (!state) throw new Error(`no pull state after ${n} messages`);
  return state;
};

const overall = (): HTMLElement => screen.getByRole('progressbar', { name: `Pulling ${IMAGE}` });
const layerRows = (): HTMLElement[] => [...document.querySelectorAll<HTMLElement>('.layer')];

describe('PullProgress', () => {
  it('lists the layers, not the tag line, and shows an unknown total as an indeterminate bar', () => {
    render(<PullProgress pull={after(4)} done={false} />);
    const block = screen.getByTestId('pull-progress');
    expect(within(block).getByText(`Pulling ${IMAGE}`)).toBeTruthy();
    expect(within(block).getByText('Pulling from library/python')).toBeTruthy();
    // Three layers: "3.11-slim" is the tag the first message names, not a layer.
    expect(layerRows().map((row) => row.querySelector('.layer-id')?.textContent)).toEqual([BASE, LIBS, PYTHON]);
    expect(layerRows().map((row) => row.querySelector('.layer-status')?.textContent)).toEqual(['Pulling fs layer', 'Pulling fs layer', 'Pulling fs layer']);
    // No sizes known yet: no percentage, and a bar that says it does not know.
    expect(overall().getAttribute('aria-valuenow')).toBeNull();
    expect(overall().className).toContain('bar-indeterminate');
    expect(block.querySelector('.prep-percent')?.textContent).toBe('');
  });

  it('shows each layer with its bytes and the overall percentage as the download goes', () => {
    render(<PullProgress pull={after(9)} done={false} />);
    const [base, libs, python] = layerRows();
    expect(base?.querySelector('.layer-status')?.textContent).toBe('Downloading');
    expect(base?.querySelector('.layer-size')?.textContent).toBe('13.9 MB / 27.8 MB');
    expect(libs?.querySelector('.layer-size')?.textContent).toBe('1.1 MB / 3.3 MB');
    expect(python?.querySelector('.layer-status')?.textContent).toBe('Waiting');
    expect(python?.querySelector('.layer-size')?.textContent).toBe('');
    // The python layer's bar knows nothing yet; the base layer's is a quarter (half of its download).
    expect(within(python!).getByRole('progressbar').getAttribute('aria-valuenow')).toBeNull();
    expect(within(base!).getByRole('progressbar', { name: `Layer ${BASE}` }).getAttribute('aria-valuenow')).toBe('25');
    const percent = Number(overall().getAttribute('aria-valuenow'));
    expect(percent).toBeGreaterThan(0);
    expect(percent).toBeLessThan(50);
    expect(screen.getByTestId('pull-progress').querySelector('.prep-percent')?.textContent).toBe(`${percent}%`);
  });

  it('never moves a bar back, not even when extraction starts counting from 0', () => {
    const { rerender } = render(<PullProgress pull={after(1)} done={false} />);
    let overallBefore = 0;
    const layerBefore = new Map<string, number>();
    const sized = new Set<string>();
    for (let n = 2; n <= STREAM.length; n++) {
      rerender(<PullProgress pull={after(n)} done={false} />);
      const message = STREAM[n - 1]?.pull;
      const label = `after message ${n} (${message?.layer ?? ''} ${message?.status ?? ''})`;
      for (const id of [BASE, LIBS, PYTHON]) {
        const now = Number(screen.queryByRole('progressbar', { name: `Layer ${id}` })?.getAttribute('aria-valuenow') ?? 0);
        expect(now, `layer ${id} ${label}`).toBeGreaterThanOrEqual(layerBefore.get(id) ?? 0);
        layerBefore.set(id, now);
      }
      const now = Number(overall().getAttribute('aria-valuenow') ?? 0);
      // A layer whose size becomes known adds bytes still to come: only then may the total drop.
      const revealsSize = message?.layer !== undefined && message.total !== undefined && !sized.has(message.layer);
      if (revealsSize && message?.layer) sized.add(message.layer);
      else expect(now, `overall ${label}`).toBeGreaterThanOrEqual(overallBefore);
      overallBefore = now;
    }
    expect(overallBefore).toBe(100);
    expect([...layerBefore.values()]).toEqual([100, 100, 100]);
  });

  it('says Pulled when the image is there, with the last status line and no layer list', () => {
    render(<PullProgress pull={after(STREAM.length)} done />);
    const block = screen.getByTestId('pull-progress');
    expect(within(block).getByText(`Pulled ${IMAGE}`)).toBeTruthy();
    expect(within(block).getByText(`Status: Downloaded newer image for ${IMAGE}`)).toBeTruthy();
    expect(overall().getAttribute('aria-valuenow')).toBe('100');
    expect(block.querySelector('.prep-percent')?.textContent).toBe('100%');
    expect(layerRows()).toHaveLength(0);
  });

  it('counts layers the engine already has as complete', () => {
    const state = applyProgress(emptyProgress(), [
      pull('3.11-slim', 'Pulling from library/python'),
      pull(BASE, 'Already exists'),
      pull(LIBS, 'Already exists'),
    ]).pull;
    render(<PullProgress pull={state!} done={false} />);
    expect(overall().getAttribute('aria-valuenow')).toBe('100');
    expect(layerRows().map((row) => row.querySelector('.layer-status')?.textContent)).toEqual(['Already exists', 'Already exists']);
  });
});
