// Helpers for component tests under jsdom, which lays nothing out: every element measures
// 0×0, so a virtualized list would think its viewport is empty. Elements here measure as a
// 1000×600 viewport instead, which is what a window shows.
import { afterAll, beforeAll } from 'vitest';

export function withViewport(width = 1000, height = 600): void {
  const saved: [string, PropertyDescriptor | undefined][] = [];
  beforeAll(() => {
    for (const [prop, value] of [
      ['offsetWidth', width],
      ['offsetHeight', height],
      ['clientWidth', width],
      ['clientHeight', height],
    ] as const) {
      saved.push([prop, Object.getOwnPropertyDescriptor(HTMLElement.prototype, prop)]);
      Object.defineProperty(HTMLElement.prototype, prop, { configurable: true, get: () => value });
    }
  });
  afterAll(() => {
    for (const [prop, descriptor] of saved) {
      if (descriptor) Object.defineProperty(HTMLElement.prototype, prop, descriptor);
    }
  });
}
