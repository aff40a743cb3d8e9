import { describe, expect, it } from 'vitest';
import { machineCpuMs, machinePageFaults } from './machine';

describe('machineCpuMs', () => {
  it("counts this process's CPU among the machine's, and never more busy time than elapsed", () => {
    const before = machineCpuMs();
    expect(before, '/proc/stat is readable on the Linux machines the tests run on').not.toBeNull();
    // 300 ms of CPU in this process: the machine's busy time grows by about that at least, whatever
    // else runs (less what the kernel's tick sampling misses; a unit error would be off tenfold).
    const cpu0 = process.cpuUsage();
    let spins = 0;
    while ((process.cpuUsage(cpu0).user + process.cpuUsage(cpu0).system) / 1000 < 300) spins++;
    const after = machineCpuMs();
    if (!before || !after) throw new Error('unreachable');
    expect(spins).toBeGreaterThan(0);
    expect(after.busyMs - before.busyMs).toBeGreaterThanOrEqual(200);
    expect(after.busyMs - before.busyMs).toBeLessThanOrEqual(after.totalMs - before.totalMs);
  });
});

describe('machinePageFaults', () => {
  it("counts this process's first writes to fresh pages among the machine's", () => {
    const before = machinePageFaults();
    expect(before, '/proc/vmstat is readable on the Linux machines the tests run on').not.toBeNull();
    // 64 MB written once: 16,384 pages of 4 KB, each a fault (fewer only where the kernel maps a
    // huge page at once, which makes 32 of them).
    const pages = Buffer.allocUnsafeSlow(64 << 20).fill(1);
    const after = machinePageFaults();
    if (before === null || after === null) throw new Error('unreachable');
    expect(pages[pages.length - 1]).toBe(1);
    expect(after - before).toBeGreaterThanOrEqual(32);
  });
});
