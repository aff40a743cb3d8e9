// The isolation levels by name, as the CLI, the request form and container labels spell them,
// and as the proto's IsolationLevel (its number in messages, its name in proto3 JSON).
import { IsolationLevel, type IsolationLevelJson } from './gen/loom/v1/docker_pb';

export const ISOLATIONS = ['runc', 'gvisor'] as const;
export type Isolation = (typeof ISOLATIONS)[number];
export const DEFAULT_ISOLATION: Isolation = 'runc';

export const ISOLATION_LEVELS: Readonly<Record<Isolation, IsolationLevel>> = {
  runc: IsolationLevel.RUNC,
  gvisor: IsolationLevel.GVISOR,
};

export const ISOLATION_JSON: Readonly<Record<Isolation, IsolationLevelJson>> = {
  runc: 'ISOLATION_LEVEL_RUNC',
  gvisor: 'ISOLATION_LEVEL_GVISOR',
};

/** The isolation an IsolationLevel names: the default for UNSPECIFIED, undefined for numbers the proto lacks. */
export function isolationOf(level: IsolationLevel): Isolation | undefined {
  if (level === IsolationLevel.UNSPECIFIED) return DEFAULT_ISOLATION;
  return ISOLATIONS.find((i) => ISOLATION_LEVELS[i] === level);
}

/** The isolation a proto3 JSON IsolationLevel names (the default for none or UNSPECIFIED). */
export function isolationFromJson(value: IsolationLevelJson | undefined): Isolation {
  return ISOLATIONS.find((i) => ISOLATION_JSON[i] === value) ?? DEFAULT_ISOLATION;
}
