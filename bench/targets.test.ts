import { describe, expect, it } from 'vitest';
import { evaluateTargets, ratioText, TARGETS, verdict, type TargetFigures } from './targets';

const passing: TargetFigures = {
  warmP50Ms: 4,
  warmP99Ms: 12,
  rawExecP50Ms: 60,
  warmNodeP50Ms: 10,
  coldP50Ms: 200,
  rawColdP50Ms: 180,
  secondProcessContainerCreated: false,
  throughputPerS: 350,
  packagesInstallViolations: 0,
  packagesCachedRuns: 15,
  packagesCachedColdP50Ms: 250,
  rssMb: 120,
  rssPooledContainers: 16,
  cleanSlateHelloP50Ms: 4.5,
  keepStateHelloP50Ms: 4,
  cleanSlate1000FilesP50Ms: 30,
  keepState1000FilesP50Ms: 25,
  mcpStdioHelloP50Ms: 7,
  mcpHttpSessions: 50,
  mcpHttpMatched: 50,
  mcpHttpContainersLeft: 0,
  throughputVsRaw: 11,
  warmFaultsPerRun: 40,
  warmNodeFaultsPerRun: 250,
  cliWarmWallMs: 150,
  cliNativeHandoffWallMs: 30,
  dockerExecCliMs: 140,
  loomHelpMs: 150,
  nodeE0Ms: 100,
  uiFlood200MbMs: 5000,
  cliFlood200MbMs: 3000,
  uiWorstStallMs: 60,
  languagesPythonWarmP50Ms: 4,
  goCachedP50Ms: 6,
  rustCachedP50Ms: 7,
};

const byId = (f: TargetFigures): Record<string, boolean | null> => Object.fromEntries(evaluateTargets(f).map((t) => [t.id, t.met]));

describe('evaluateTargets', () => {
  it('has one row per target of issues 5, 12 and 18, all met by figures inside them', () => {
    const rows = evaluateTargets(passing);
    expect(rows.map((r) => r.id)).toEqual([
      'warmP50',
      'warmP99',
      'warmVsRawExec',
      'warmNodeP50',
      'coldVsRawCold',
      'secondProcessReused',
      'throughput',
      'packagesNoInstall',
      'packagesCachedVsCold',
      'rss',
      'cleanSlateHello',
      'cleanSlate1000Files',
      'mcpStdioVsWarm',
      'mcpHttpConcurrent',
      'warmP99VsRawExec',
      'throughputVsRaw',
      'warmNodeVsRawExec',
      'warmFaults',
      'warmNodeFaults',
      'cliWarmVsDockerExec',
      'cliHandedOffVsDockerExec',
      'loomHelpVsNodeE0',
      'uiFloodVsCli',
      'uiWorstStall',
      'goCachedVsPythonWarm',
      'rustCachedVsPythonWarm',
    ]);
    expect(rows.every((r) => r.met === true)).toBe(true);
  });

  it('treats the limits as inclusive', () => {
    const met = byId({
      ...passing,
      warmP50Ms: TARGETS.warmP50Ms,
      warmP99Ms: TARGETS.warmP99Ms,
      rawExecP50Ms: TARGETS.warmP50Ms / TARGETS.warmVsRawExec,
      coldP50Ms: 125,
      rawColdP50Ms: 100,
      throughputPerS: TARGETS.throughputPerS,
      packagesCachedColdP50Ms: 187.5, // 1.5 x 125
      rssMb: TARGETS.rssMb,
      cleanSlateHelloP50Ms: 4 + TARGETS.cleanSlateHelloDeltaMs,
      cleanSlate1000FilesP50Ms: 25 + TARGETS.cleanSlate1000FilesDeltaMs,
      throughputVsRaw: TARGETS.throughputVsRaw,
      warmFaultsPerRun: TARGETS.warmFaultsPerRun,
      warmNodeFaultsPerRun: TARGETS.warmNodeFaultsPerRun,
      cliWarmWallMs: 150,
      cliNativeHandoffWallMs: 150,
      dockerExecCliMs: 100,
      loomHelpMs: 200,
      nodeE0Ms: 100,
      uiFlood200MbMs: 6000,
      cliFlood200MbMs: 3000,
      uiWorstStallMs: TARGETS.uiWorstStallMs,
      goCachedP50Ms: 4 * TARGETS.compiledCachedVsPythonWarm,
    });
    // (warm p99 / raw exec at its limit, 12 / 60, is in `passing`: here raw exec is set for warm p50.)
    const { warmP99VsRawExec: _atItsLimitInPassing, ...rest } = met;
    expect(Object.values(rest).every((m) => m === true)).toBe(true);
  });

  it('reports each miss on its own row', () => {
    const met = byId({
      ...passing,
      warmP50Ms: 7,
      rawExecP50Ms: 50, // 7 / 50 = 0.14
      coldP50Ms: 400, // 400 / 180 > 1.25; packages 250 / 400 is still fine
      secondProcessContainerCreated: true,
      throughputPerS: 120,
      packagesInstallViolations: 2,
      rssMb: 151,
      cleanSlateHelloP50Ms: 5.5,
      warmFaultsPerRun: 650,
      cliWarmWallMs: 670,
      cliNativeHandoffWallMs: 211, // 211 / 140 > 1.5
      uiWorstStallMs: 1060,
      rustCachedP50Ms: 8.5, // 8.5 / 4 > 2
    });
    expect(met).toEqual({
      warmP50: false,
      warmP99: true,
      warmVsRawExec: false,
      warmNodeP50: true,
      coldVsRawCold: false,
      secondProcessReused: false,
      throughput: false,
      packagesNoInstall: false,
      packagesCachedVsCold: true,
      rss: false,
      cleanSlateHello: false,
      cleanSlate1000Files: true,
      mcpStdioVsWarm: true, // 7 ms against the warm p50 of 7 ms
      mcpHttpConcurrent: true,
      warmP99VsRawExec: false, // 12 / 50
      throughputVsRaw: true,
      warmNodeVsRawExec: true, // 10 / 50, at the limit
      warmFaults: false,
      warmNodeFaults: true,
      cliWarmVsDockerExec: false,
      cliHandedOffVsDockerExec: false,
      loomHelpVsNodeE0: true,
      uiFloodVsCli: true,
      uiWorstStall: false,
      goCachedVsPythonWarm: true,
      rustCachedVsPythonWarm: false,
    });
  });

  it('says "not measured" rather than met or not when a figure is missing', () => {
    const met = byId({
      ...passing,
      warmNodeP50Ms: Number.NaN,
      rawColdP50Ms: Number.NaN,
      secondProcessContainerCreated: null,
      packagesInstallViolations: null,
      packagesCachedColdP50Ms: Number.NaN,
      rssPooledContainers: 12,
      uiFlood200MbMs: Number.NaN,
      uiWorstStallMs: Number.NaN,
    });
    expect(met.uiFloodVsCli).toBeNull();
    expect(met.uiWorstStall).toBeNull();
    expect(met.warmNodeP50).toBeNull();
    expect(met.coldVsRawCold).toBeNull();
    expect(met.secondProcessReused).toBeNull();
    expect(met.packagesNoInstall).toBeNull();
    expect(met.packagesCachedVsCold).toBeNull();
    expect(met.rss).toBeNull();
    expect(met.warmP50).toBe(true);
    expect([verdict(true), verdict(false), verdict(null)]).toEqual(['met', 'NOT MET', 'not measured']);
  });

  it('shows the ratio and both sides in the measured column', () => {
    const row = evaluateTargets({ ...passing, coldP50Ms: 300, rawColdP50Ms: 200 }).find((r) => r.id === 'coldVsRawCold');
    expect(row?.measured).toBe('1.50x (300.0 ms vs 200.0 ms)');
    expect(row?.target).toBe('<= 1.25x');
  });

  it.each([
    [2.171, 1.25, '2.17'],
    [0.10031, 0.1, '0.1003'],
    [0.1, 0.1, '0.10'],
    [Number.NaN, 0.1, '-'],
  ])('prints the ratio %d against the limit %d as %s', (value, limit, expected) => {
    expect(ratioText(value, limit)).toBe(expected);
  });

  it('never prints the limit itself for a ratio just past it', () => {
    const row = evaluateTargets({ ...passing, warmP50Ms: 9.17, rawExecP50Ms: 91.42 }).find((r) => r.id === 'warmVsRawExec');
    expect(row?.measured).toBe('0.1003x (raw 91.4 ms)');
    expect(row?.met).toBe(false);
  });
});

describe('the MCP targets (issue 15)', () => {
  it('holds stdio to twice the warm p50 and the HTTP sessions to all matched and none left', () => {
    expect(byId({ ...passing, mcpStdioHelloP50Ms: 8.1 }).mcpStdioVsWarm).toBe(false);
    expect(byId({ ...passing, mcpHttpMatched: 49 }).mcpHttpConcurrent).toBe(false);
    expect(byId({ ...passing, mcpHttpContainersLeft: 1 }).mcpHttpConcurrent).toBe(false);
    expect(byId({ ...passing, mcpHttpSessions: Number.NaN }).mcpHttpConcurrent).toBe(null);
  });
});
