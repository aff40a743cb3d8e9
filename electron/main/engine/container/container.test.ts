// The CPU limit's form (pure; security.test.ts checks it on a real container).
import { describe, expect, it } from 'vitest';
import { cpuLimit, cpuQuota } from './container';

describe('cpuQuota', () => {
  it.each([
    [1, 10_000],
    [1.5, 15_000],
    [0.1, 1_000],
    [64, 640_000],
  ])('gives a 10 ms period for every limit from 0.1 CPU up, with the same share: %d CPUs', (cpus, quota) => {
    expect(cpuQuota(cpus)).toEqual({ CpuPeriod: 10_000, CpuQuota: quota });
  });

  it.each([
    [0.05, 20_000],
    [0.01, 100_000],
  ])('lengthens the period where the quota would fall under the kernel’s 1 ms minimum: %d CPUs', (cpus, period) => {
    expect(cpuQuota(cpus)).toEqual({ CpuPeriod: period, CpuQuota: 1_000 });
  });

  it.each([0.01, 0.013, 0.03, 0.07, 0.1, 0.33])('never sets a quota under 1 ms: %d CPUs', (cpus) => {
    expect(cpuQuota(cpus).CpuQuota).toBeGreaterThanOrEqual(1_000);
  });

  it('reads either form back as CPUs', () => {
    expect(cpuLimit(cpuQuota(1.5))).toBe(1.5);
    expect(cpuLimit({ NanoCpus: 2e9 })).toBe(2);
    expect(cpuLimit({ NanoCpus: 0, CpuPeriod: 0, CpuQuota: 0 })).toBeUndefined();
    expect(cpuLimit(undefined)).toBeUndefined();
  });
});
