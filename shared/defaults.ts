// The Docker backend guide's defaults, in one place for the engine, the CLI and the UI.

export const DEFAULT_IMAGES = {
  python: 'python:3.11-slim',
  node: 'node:20-slim',
} as const;

/**
 * The language runtimes' images: Loom's own, built from Debian's packages by
 * scripts/build-images.sh (`npm run images -- go`, say), never pulled. Each has python3 for Loom's
 * runner besides its toolchain. The tags name no image on any registry (docker.io/library/ holds
 * only Docker's official images, and none is called loom-*).
 */
export const LANGUAGE_IMAGES = {
  bash: 'loom-bash:5.2',
  go: 'loom-go:1.19',
  rust: 'loom-rust:1.63',
  ruby: 'loom-ruby:3.1',
  java: 'loom-java:17',
} as const;

/** The image a runtime uses when the request names none (custom has none). */
export function defaultImage(runtime: keyof typeof DEFAULT_IMAGES | keyof typeof LANGUAGE_IMAGES): string {
  return { ...DEFAULT_IMAGES, ...LANGUAGE_IMAGES }[runtime];
}

/** The longest source a request may carry (it travels in one runner frame, JSON-escaped). */
export const MAX_SOURCE_BYTES = 2 * 1024 * 1024;

/** How long a source program's compile may take unless the request says otherwise. */
export const DEFAULT_COMPILE_TIMEOUT_SECONDS = 60;

export const DEFAULT_LIMITS = {
  cpuCores: 1,
  memoryMb: 512,
  storageMb: 1024,
  pidsLimit: 100,
  executionTimeoutSeconds: 300,
} as const;

export const DEFAULT_LIFECYCLE = {
  rotationIntervalHours: 4,
  maxExecutions: 1000,
  healthCheckIntervalSeconds: 60,
  autoCleanup: true,
} as const;

/** Bytes of stdout and of stderr kept in a response (each); the live stream is not capped. */
export const DEFAULT_MAX_OUTPUT_BYTES = 4 * 1024 * 1024;

/** Upper bounds past which a value is taken for a mistake rather than a wish. */
export const MAX_LIMITS = {
  cpuCores: 256,
  memoryMb: 1024 * 1024,
  storageMb: 1024 * 1024,
  pidsLimit: 1 << 20,
  executionTimeoutSeconds: 7 * 24 * 3600,
  maxOutputBytes: 256 * 1024 * 1024,
  rotationIntervalHours: 24 * 365,
  maxExecutions: 1_000_000_000,
  healthCheckIntervalSeconds: 24 * 3600,
} as const;

/** Docker refuses memory limits under 6 MB. */
export const MIN_MEMORY_MB = 6;
