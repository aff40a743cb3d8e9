// The targets of issues 5, 12 and 18, checked against one run's figures. Pure: the bench reports the
// outcome, it never fails on it (a busy machine would make it flaky, and it is not a test).
import { fmt, ratio } from './stats';

export const TARGETS = {
  warmP50Ms: 5,
  warmP99Ms: 15,
  /** warm p50 / raw dockerode exec p50, same run. */
  warmVsRawExec: 0.1,
  warmNodeP50Ms: 15,
  /** cold p50 / raw create + start + wait p50, same run. */
  coldVsRawCold: 1.25,
  throughputPerS: 300,
  /** cold p50 with 2 cached packages / cold p50 without packages, same run. */
  packagesCachedVsCold: 1.5,
  rssMb: 150,
  /** The clean slate between runs: warm hello p50 with it, minus without it (a keep-state runner), same run. */
  cleanSlateHelloDeltaMs: 1,
  /** The same for a program that leaves 1,000 files in /tmp. */
  cleanSlate1000FilesDeltaMs: 10,
  /** execute_code hello through `loom mcp` stdio, warm p50 / the engine's warm p50, same run. */
  mcpStdioVsWarm: 2,
  // Issue 18: speed that holds where page faults are dear (VMs), and the command line's.
  /** warm p99 / raw dockerode exec p50, same run. */
  warmP99VsRawExec: 0.2,
  /** Loom throughput / raw throughput, same run. */
  throughputVsRaw: 10,
  /** warm Node p50 (idle container) / raw dockerode exec p50, same run. */
  warmNodeVsRawExec: 0.2,
  /** Page faults from RUN to EXIT of a warm hello (program + runner), p50. */
  warmFaultsPerRun: 100,
  warmNodeFaultsPerRun: 300,
  /** `loom exec` end to end (new process, warm parked container) / `docker exec` CLI, same run. */
  cliWarmVsDockerExec: 1.5,
  /** `loom --help` / `node -e 0`. */
  loomHelpVsNodeE0: 2,
  /** A 200 MB print finished in the window / through `loom exec`, same run. */
  uiFloodVsCli: 2,
  /** The page's longest main-thread task while that output arrives. */
  uiWorstStallMs: 100,
  /** A compiled hello's cached rerun p50 / the warm python hello p50, same rounds (issue 16). */
  compiledCachedVsPythonWarm: 2,
} as const;

/** What the targets are checked against; NaN (or null) means the figure was not measured. */
export interface TargetFigures {
  warmP50Ms: number;
  warmP99Ms: number;
  rawExecP50Ms: number;
  warmNodeP50Ms: number;
  coldP50Ms: number;
  rawColdP50Ms: number;
  /** containerCreated of the second `loom exec` process with the same config. */
  secondProcessContainerCreated: boolean | null;
  throughputPerS: number;
  /** Cached-package cold runs that showed an install step (installLog, PACKAGES phase, packagesMs > 0). */
  packagesInstallViolations: number | null;
  packagesCachedRuns: number;
  packagesCachedColdP50Ms: number;
  rssMb: number;
  rssPooledContainers: number;
  cleanSlateHelloP50Ms: number;
  keepStateHelloP50Ms: number;
  cleanSlate1000FilesP50Ms: number;
  keepState1000FilesP50Ms: number;
  mcpStdioHelloP50Ms: number;
  /** Concurrent `loom mcp --http` client sessions; NaN when not measured. */
  mcpHttpSessions: number;
  mcpHttpMatched: number;
  /** Containers of that process left after it stopped; -1 when it could not be counted. */
  mcpHttpContainersLeft: number;
  throughputVsRaw: number;
  warmFaultsPerRun: number;
  warmNodeFaultsPerRun: number;
  cliWarmWallMs: number;
  /** `loom exec` through bin/loom's native client, handed to a host; NaN when not measured. */
  cliNativeHandoffWallMs: number;
  dockerExecCliMs: number;
  loomHelpMs: number;
  nodeE0Ms: number;
  uiFlood200MbMs: number;
  cliFlood200MbMs: number;
  uiWorstStallMs: number;
  /** The language runtimes (bench/languages.ts); absent: not measured. */
  languagesPythonWarmP50Ms?: number;
  goCachedP50Ms?: number;
  rustCachedP50Ms?: number;
}

export interface TargetResult {
  /** Stable identifier, for the JSON output. */
  id: string;
  figure: string;
  measured: string;
  target: string;
  /** null: not measured, so neither met nor not met. */
  met: boolean | null;
}

const atMost = (value: number, limit: number): boolean | null => (Number.isFinite(value) ? value <= limit : null);
const atLeast = (value: number, limit: number): boolean | null => (Number.isFinite(value) ? value >= limit : null);

export function evaluateTargets(f: TargetFigures): TargetResult[] {
  const warmVsRaw = ratio(f.warmP50Ms, f.rawExecP50Ms);
  const coldVsRaw = ratio(f.coldP50Ms, f.rawColdP50Ms);
  const pkgVsCold = ratio(f.packagesCachedColdP50Ms, f.coldP50Ms);
  const mcpVsWarm = ratio(f.mcpStdioHelloP50Ms, f.warmP50Ms);
  const mcpHttpMeasured = Number.isFinite(f.mcpHttpSessions) && f.mcpHttpContainersLeft >= 0;
  const ms = (x: number): string => (Number.isFinite(x) ? `${fmt(x)} ms` : '-');
  const times = (x: number, limit: number): string => (Number.isFinite(x) ? `${ratioText(x, limit)}x` : '-');
  return [
    { id: 'warmP50', figure: 'warm p50 (python hello)', measured: ms(f.warmP50Ms), target: `<= ${TARGETS.warmP50Ms} ms`, met: atMost(f.warmP50Ms, TARGETS.warmP50Ms) },
    { id: 'warmP99', figure: 'warm p99 (python hello)', measured: ms(f.warmP99Ms), target: `<= ${TARGETS.warmP99Ms} ms`, met: atMost(f.warmP99Ms, TARGETS.warmP99Ms) },
    {
      id: 'warmVsRawExec',
      figure: 'warm p50 / raw dockerode exec p50',
      measured: `${times(warmVsRaw, TARGETS.warmVsRawExec)} (raw ${ms(f.rawExecP50Ms)})`,
      target: `<= ${TARGETS.warmVsRawExec}x`,
      met: atMost(warmVsRaw, TARGETS.warmVsRawExec),
    },
    { id: 'warmNodeP50', figure: 'warm Node hello p50 (at an idle container)', measured: ms(f.warmNodeP50Ms), target: `<= ${TARGETS.warmNodeP50Ms} ms`, met: atMost(f.warmNodeP50Ms, TARGETS.warmNodeP50Ms) },
    {
      id: 'coldVsRawCold',
      figure: 'cold p50 / raw create+start+wait p50',
      measured: `${times(coldVsRaw, TARGETS.coldVsRawCold)} (${ms(f.coldP50Ms)} vs ${ms(f.rawColdP50Ms)})`,
      target: `<= ${TARGETS.coldVsRawCold}x`,
      met: atMost(coldVsRaw, TARGETS.coldVsRawCold),
    },
    {
      id: 'secondProcessReused',
      figure: 'second `loom exec` process, same config',
      measured: f.secondProcessContainerCreated === null ? '-' : f.secondProcessContainerCreated ? 'created a container' : 'reused (containerCreated false)',
      target: 'container reused',
      met: f.secondProcessContainerCreated === null ? null : !f.secondProcessContainerCreated,
    },
    {
      id: 'throughput',
      figure: 'throughput, 4 containers, concurrency 8',
      measured: Number.isFinite(f.throughputPerS) ? `${fmt(f.throughputPerS)}/s` : '-',
      target: `>= ${TARGETS.throughputPerS}/s`,
      met: atLeast(f.throughputPerS, TARGETS.throughputPerS),
    },
    {
      id: 'packagesNoInstall',
      figure: 'new container, same 2 packages: install step',
      measured: f.packagesInstallViolations === null ? '-' : `${f.packagesInstallViolations} of ${f.packagesCachedRuns} cached runs installed`,
      target: 'none',
      met: f.packagesInstallViolations === null || f.packagesCachedRuns === 0 ? null : f.packagesInstallViolations === 0,
    },
    {
      id: 'packagesCachedVsCold',
      figure: 'cold p50 with 2 cached packages / cold p50',
      measured: `${times(pkgVsCold, TARGETS.packagesCachedVsCold)} (${ms(f.packagesCachedColdP50Ms)})`,
      target: `<= ${TARGETS.packagesCachedVsCold}x`,
      met: atMost(pkgVsCold, TARGETS.packagesCachedVsCold),
    },
    {
      id: 'rss',
      figure: `host process RSS, ${f.rssPooledContainers} pooled containers`,
      measured: Number.isFinite(f.rssMb) ? `${fmt(f.rssMb)} MB` : '-',
      target: `<= ${TARGETS.rssMb} MB (16 pooled)`,
      met: f.rssPooledContainers < 16 ? null : atMost(f.rssMb, TARGETS.rssMb),
    },
    cleanSlateRow('cleanSlateHello', 'clean slate: warm hello p50, with - without', f.cleanSlateHelloP50Ms, f.keepStateHelloP50Ms, TARGETS.cleanSlateHelloDeltaMs),
    cleanSlateRow(
      'cleanSlate1000Files',
      'clean slate: 1,000 files left, p50 with - without',
      f.cleanSlate1000FilesP50Ms,
      f.keepState1000FilesP50Ms,
      TARGETS.cleanSlate1000FilesDeltaMs,
    ),
    {
      id: 'mcpStdioVsWarm',
      figure: 'execute_code hello via `loom mcp` stdio p50 / warm p50',
      measured: `${times(mcpVsWarm, TARGETS.mcpStdioVsWarm)} (${ms(f.mcpStdioHelloP50Ms)})`,
      target: `<= ${TARGETS.mcpStdioVsWarm}x`,
      met: atMost(mcpVsWarm, TARGETS.mcpStdioVsWarm),
    },
    {
      id: 'mcpHttpConcurrent',
      figure: `${Number.isFinite(f.mcpHttpSessions) ? f.mcpHttpSessions : '-'} concurrent \`loom mcp --http\` sessions`,
      measured: mcpHttpMeasured ? `${f.mcpHttpMatched} matched, ${f.mcpHttpContainersLeft} container(s) left` : '-',
      target: 'all matched, none left',
      met: mcpHttpMeasured ? f.mcpHttpMatched === f.mcpHttpSessions && f.mcpHttpContainersLeft === 0 : null,
    },
    ratioRow('warmP99VsRawExec', 'warm p99 / raw dockerode exec p50', f.warmP99Ms, f.rawExecP50Ms, TARGETS.warmP99VsRawExec),
    {
      id: 'throughputVsRaw',
      figure: 'throughput / raw throughput',
      measured: Number.isFinite(f.throughputVsRaw) ? `${fmt(f.throughputVsRaw, 2)}x` : '-',
      target: `>= ${TARGETS.throughputVsRaw}x`,
      met: atLeast(f.throughputVsRaw, TARGETS.throughputVsRaw),
    },
    ratioRow('warmNodeVsRawExec', 'warm Node p50 (idle container) / raw exec p50', f.warmNodeP50Ms, f.rawExecP50Ms, TARGETS.warmNodeVsRawExec),
    countRow('warmFaults', 'page faults, warm python hello (RUN to EXIT)', f.warmFaultsPerRun, TARGETS.warmFaultsPerRun),
    countRow('warmNodeFaults', 'page faults, warm Node hello (RUN to EXIT)', f.warmNodeFaultsPerRun, TARGETS.warmNodeFaultsPerRun),
    ratioRow('cliWarmVsDockerExec', '`loom exec` process (warm) / `docker exec` CLI', f.cliWarmWallMs, f.dockerExecCliMs, TARGETS.cliWarmVsDockerExec),
    ratioRow('cliHandedOffVsDockerExec', '`loom exec` handed to a host (native client) / `docker exec` CLI', f.cliNativeHandoffWallMs, f.dockerExecCliMs, TARGETS.cliWarmVsDockerExec),
    ratioRow('loomHelpVsNodeE0', '`loom --help` / `node -e 0`', f.loomHelpMs, f.nodeE0Ms, TARGETS.loomHelpVsNodeE0),
    ratioRow('uiFloodVsCli', '200 MB print: window / `loom exec`', f.uiFlood200MbMs, f.cliFlood200MbMs, TARGETS.uiFloodVsCli),
    {
      id: 'uiWorstStall',
      figure: 'longest main-thread task during that print',
      measured: Number.isFinite(f.uiWorstStallMs) ? `${fmt(f.uiWorstStallMs)} ms` : '-',
      target: `<= ${TARGETS.uiWorstStallMs} ms`,
      met: atMost(f.uiWorstStallMs, TARGETS.uiWorstStallMs),
    },
    compiledCachedRow('goCachedVsPythonWarm', 'Go', f.goCachedP50Ms, f.languagesPythonWarmP50Ms),
    compiledCachedRow('rustCachedVsPythonWarm', 'Rust', f.rustCachedP50Ms, f.languagesPythonWarmP50Ms),
  ];
}

function ratioRow(id: string, figure: string, value: number, base: number, limit: number): TargetResult {
  const x = ratio(value, base);
  return {
    id,
    figure,
    measured: Number.isFinite(x) ? `${ratioText(x, limit)}x (${fmt(value)} vs ${fmt(base)} ms)` : '-',
    target: `<= ${limit}x`,
    met: atMost(x, limit),
  };
}

function countRow(id: string, figure: string, value: number, limit: number): TargetResult {
  return { id, figure, measured: Number.isFinite(value) ? fmt(value, 0) : '-', target: `<= ${limit}`, met: atMost(value, limit) };
}

function compiledCachedRow(id: string, language: string, cachedMs = Number.NaN, pythonMs = Number.NaN): TargetResult {
  const r = ratio(cachedMs, pythonMs);
  const limit = TARGETS.compiledCachedVsPythonWarm;
  return {
    id,
    figure: `${language} hello, cached build: p50 / warm python hello p50`,
    measured: Number.isFinite(r) ? `${ratioText(r, limit)}x (${fmt(cachedMs)} vs ${fmt(pythonMs)} ms)` : '-',
    target: `<= ${limit}x`,
    met: atMost(r, limit),
  };
}

function cleanSlateRow(id: string, figure: string, withMs: number, withoutMs: number, limitMs: number): TargetResult {
  const delta = withMs - withoutMs;
  return {
    id,
    figure,
    measured: Number.isFinite(delta) ? `${fmt(delta)} ms (${fmt(withMs)} vs ${fmt(withoutMs)} ms)` : '-',
    target: `<= ${limitMs} ms`,
    met: atMost(delta, limitMs),
  };
}

/**
 * A ratio with 2 decimals, or as many more (up to 5) as it takes not to print the limit itself
 * for a ratio that is not the limit: 0.1003 against 0.1 reads 0.1003, not 0.10.
 */
export function ratioText(x: number, limit: number): string {
  if (!Number.isFinite(x)) return '-';
  let digits = 2;
  while (digits < 5 && x !== limit && Number(x.toFixed(digits)) === limit) digits++;
  return x.toFixed(digits);
}

export function verdict(met: boolean | null): string {
  return met === null ? 'not measured' : met ? 'met' : 'NOT MET';
}
