// What a doctor check is: one object with its id, its title and how it judges what was found,
// either in the engine's own answers or in one line the probe printed.
import type Docker from 'dockerode';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface Verdict {
  status: CheckStatus;
  /** What was found, in a sentence or two. */
  detail: string;
  /** What to do about a warning or a failure. */
  fix?: string;
}

/** The fields of GET /info that the doctor reads (dockerode types it as any). */
export interface EngineInfoResponse {
  CgroupVersion?: string;
  CgroupDriver?: string;
  DefaultRuntime?: string;
  Runtimes?: Record<string, { path?: string; runtimeArgs?: string[] } | undefined>;
  SecurityOptions?: string[];
  RuncCommit?: { ID?: string };
  ServerVersion?: string;
}

/** What the engine says about itself, read once and judged by the engine checks. */
export interface EngineFacts {
  address: string;
  version: Docker.DockerVersion;
  info: EngineInfoResponse;
  /** The size of each default image on the engine, by runtime; undefined when it is absent. */
  imageSizes: Record<string, number | undefined>;
  /**
   * gVisor tried for real, where the engine has a runsc runtime: the probe's sandbox.kernel line
   * from a sandbox run under it, or why none ran. Undefined when there is no runsc to try.
   */
  gvisor?: { facts?: ProbeFacts; error?: string };
}

/** One line of the probe's output: `check` is the id of the check it answers. */
export type ProbeFacts = Record<string, unknown> & { check: string; error?: string };

interface CheckBase<Id extends string> {
  /** Stable and dotted ('limit.memory'): the JSON's id, the help's list, the tests' handle. */
  readonly id: Id;
  readonly title: string;
}

export interface EngineCheck<Id extends string = string> extends CheckBase<Id> {
  readonly source: 'engine';
  /** undefined when the check does not apply to this engine (it is then not listed). */
  judge(engine: EngineFacts): Verdict | undefined;
}

export interface ProbeCheck<Id extends string = string> extends CheckBase<Id> {
  readonly source: 'probe';
  /** Judges the line the probe printed for this check (one without an error). */
  judge(facts: ProbeFacts): Verdict;
}

// Keep each id's literal type, so that the catalogue (checks.ts) yields the union of the ids.
export const engineCheck = <const Id extends string>(check: Omit<EngineCheck<Id>, 'source'>): EngineCheck<Id> => ({ source: 'engine', ...check });
export const probeCheck = <const Id extends string>(check: Omit<ProbeCheck<Id>, 'source'>): ProbeCheck<Id> => ({ source: 'probe', ...check });
