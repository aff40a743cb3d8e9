import { describe, expect, it } from 'vitest';
import { applyProgress, emptyProgress, layerFraction, MAX_INSTALL_LINES, pullFraction } from './run-progress';

describe('applyProgress', () => {
  it('follows phases in order', () => {
    const p = applyProgress(emptyProgress(), [
      { phase: { phase: 'PHASE_IMAGE', detail: 'python:3.11-slim' } },
      { phase: { phase: 'PHASE_CONTAINER', detail: 'cold start' } },
      { phase: { phase: 'PHASE_RUNNING' } },
    ]);
    expect(p.phase).toBe('running');
    expect(p.phasesSeen).toEqual(['image', 'container', 'running']);
    expect(p.phaseDetail).toBe('');
  });

  it('returns the same object for output-only batches', () => {
    const p = emptyProgress();
    expect(applyProgress(p, [{ stdout: 'aGk=' }, { spans: { spans: [] } }])).toBe(p);
  });

  it('tracks pull progress per layer and overall', () => {
    const p = applyProgress(emptyProgress(), [
      { pull: { image: 'img', status: 'Pulling from library/img' } },
      { pull: { image: 'img', layer: 'a', status: 'Downloading', current: 50, total: 100 } },
      { pull: { image: 'img', layer: 'b', status: 'Downloading', current: 0, total: 300 } },
      { pull: { image: 'img', layer: 'a', status: 'Pull complete' } },
    ]);
    expect(p.pull?.status).toBe('Pulling from library/img');
    expect(p.pull?.layers.map((l) => [l.id, l.done])).toEqual([
      ['a', true],
      ['b', false],
    ]);
    expect(pullFraction(p.pull!)).toBeCloseTo(100 / 400);
    expect(layerFraction(p.pull!.layers[1]!)).toBe(0);
  });

  it('keeps the install log bounded', () => {
    const events = Array.from({ length: MAX_INSTALL_LINES + 10 }, (_, i) => ({ installLog: `line ${i}\n` }));
    const p = applyProgress(emptyProgress(), events);
    expect(p.installLog).toHaveLength(MAX_INSTALL_LINES);
    expect(p.installLogDropped).toBe(10);
    expect(p.installLog.at(-1)).toBe(`line ${MAX_INSTALL_LINES + 9}`);
  });
});
