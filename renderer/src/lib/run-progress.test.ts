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

  it("takes the engine's first pull message (its id is the tag) as a status line, not a layer", () => {
    const p = applyProgress(emptyProgress(), [
      { pull: { image: 'python:3.11-slim', layer: '3.11-slim', status: 'Pulling from library/python' } },
      { pull: { image: 'python:3.11-slim', layer: 'a2318d6c47ec', status: 'Already exists' } },
    ]);
    expect(p.pull?.status).toBe('Pulling from library/python');
    expect(p.pull?.layers.map((l) => l.id)).toEqual(['a2318d6c47ec']);
    expect(pullFraction(p.pull!)).toBe(1);
  });

  it('puts extraction after the download on a layer\'s bar', () => {
    const layer = (events: { status: string; current?: number; total?: number }[]) =>
      applyProgress(
        emptyProgress(),
        events.map((e) => ({ pull: { image: 'img', layer: 'a', ...e } })),
      ).pull!.layers[0]!;
    expect(layerFraction(layer([{ status: 'Downloading', current: 100, total: 100 }]))).toBe(0.5);
    expect(layerFraction(layer([{ status: 'Downloading', current: 100, total: 100 }, { status: 'Download complete' }]))).toBe(0.5);
    expect(layerFraction(layer([{ status: 'Download complete' }, { status: 'Extracting', current: 50, total: 100 }]))).toBe(0.75);
  });

  it('keeps the install log bounded', () => {
    const events = Array.from({ length: MAX_INSTALL_LINES + 10 }, (_, i) => ({ installLog: `line ${i}\n` }));
    const p = applyProgress(emptyProgress(), events);
    expect(p.installLog).toHaveLength(MAX_INSTALL_LINES);
    expect(p.installLogDropped).toBe(10);
    expect(p.installLog.at(-1)).toBe(`line ${MAX_INSTALL_LINES + 9}`);
  });
});
