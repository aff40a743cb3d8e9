// Every check `loom doctor` makes, in the order it prints them: the one place their ids and
// titles are written. The JSON, the help, the probe's lines and the tests all take them from here.
import { CGROUP, ENGINE, ENGINE_SECURITY, GVISOR, IMAGES, RUNTIME } from './engine-checks';
import {
  CAPABILITIES,
  CPU,
  DOCKER_SOCKET,
  KERNEL,
  MEMORY,
  NETWORK,
  NO_NEW_PRIVILEGES,
  PIDS,
  READ_ONLY_RESOURCES,
  READ_ONLY_ROOT,
  SECCOMP,
  STORAGE,
  USER,
} from './probe-checks';
import type { Verdict } from './types';

/** The checks the probe answers, in the order they are printed. */
export const PROBE_CHECKS = [
  MEMORY,
  PIDS,
  CPU,
  STORAGE,
  USER,
  CAPABILITIES,
  NO_NEW_PRIVILEGES,
  READ_ONLY_ROOT,
  READ_ONLY_RESOURCES,
  NETWORK,
  DOCKER_SOCKET,
  SECCOMP,
  KERNEL,
] as const;

export const CHECKS = [ENGINE, RUNTIME, GVISOR, CGROUP, ...PROBE_CHECKS, ...IMAGES, ENGINE_SECURITY] as const;

export type CheckId = (typeof CHECKS)[number]['id'];

/** One line of `loom doctor`, one entry of its JSON. */
export interface DoctorCheck extends Verdict {
  id: CheckId;
  title: string;
}
