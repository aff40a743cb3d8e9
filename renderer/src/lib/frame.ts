// Coalesces bursts of work into one run per animation frame. A hidden window gets no frames
// (and Electron throttles background windows), so a timer fallback makes sure queued work
// still lands within a moment; whichever fires first wins.

export function scheduleFrame(callback: () => void, fallbackMs = 100): () => void {
  let done = false;
  const run = (): void => {
    if (done) return;
    done = true;
    if (raf !== undefined) cancelAnimationFrame(raf);
    clearTimeout(timer);
    callback();
  };
  const raf = typeof requestAnimationFrame === 'function' ? requestAnimationFrame(run) : undefined;
  const timer = setTimeout(run, typeof requestAnimationFrame === 'function' ? fallbackMs : 0);
  return () => {
    done = true;
    if (raf !== undefined) cancelAnimationFrame(raf);
    clearTimeout(timer);
  };
}

/** Runs `flush` at most once per frame, however often `request()` is called. */
export class FrameBatcher {
  private cancel: (() => void) | undefined;

  constructor(private readonly flush: () => void) {}

  request(): void {
    if (this.cancel) return;
    this.cancel = scheduleFrame(() => {
      this.cancel = undefined;
      this.flush();
    });
  }

  dispose(): void {
    this.cancel?.();
    this.cancel = undefined;
  }
}
