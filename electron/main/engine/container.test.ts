// The CPU limit's form (pure; security.test.ts checks it on a real container).
import { describe, expect, it } from 'vitest';
import { cpuLimit, cpuQuota } from './container';

describe('cpuQuota', () => {
  it('gives a 10 ms period for every limit from 0.1 CPU up, with the same share', () => {
    expect(cpuQuota(1)).toEqual({ CpuPeriod: 10_000, CpuQuota: 10_000 });
    expect(cpuQuota(1.5)).toEqual({ CpuPeriod: 10_000, CpuQuota: 15_000 });
    expect(cpuQuota(0.1)).toEqual({ CpuPeriod: 10_000, CpuQuota: 1_000 });
    expect(cpuQuota(64)).toEqual({ CpuPeriod: 10_000, CpuQuota: 640_000 });
  });

  it('lengthens the period where the quota would fall under the kernel’s 1 ms minimum', () => {
    expect(cpuQuota(0.05)).toEqual({ CpuPeriod: 20_000, CpuQuota: 1_000 });
    expect(cpuQuota(0.01)).toEqual({ CpuPeriod: 100_000, CpuQuota: 1_000 });
    for (const cpus of [0.01, 0.013, 0.03, 0.07, 0.1, 0.33]) expect(cpuQuota(cpus).CpuQuota).toBeGreaterThanOrEqual(1_000);
  });

  it('reads either form back as CPUs', () => {
    expect(cpuLimit(cpuQuota(1.5))).toBe(1.5);
    expect(cpuLimit({ NanoCpus: 2e9 })).toBe(2);
    expect(cpuLimit({ NanoCpus: 0, CpuPeriod: 0, CpuQuota: 0 })).toBeUndefined();
    expect(cpuLimit(undefined)).toBeUndefined();
  });
});
