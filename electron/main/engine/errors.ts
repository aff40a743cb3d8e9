// Errors the engine throws. Each has a stable `name` and plain fields so that it survives
// serialisation (IPC, WebSocket, the CLI's --json) with its meaning intact.

export class LoomError extends Error {
  override name = 'LoomError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A request field is missing, malformed or out of range. `field` is the proto path. */
export class ValidationError extends LoomError {
  override name = 'ValidationError';
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
  }
}

/** No Docker engine answers at the configured address. */
export class EngineUnavailableError extends LoomError {
  override name = 'EngineUnavailableError';
  constructor(
    readonly address: string,
    cause: unknown,
  ) {
    super(
      `Cannot connect to the Docker engine at ${address} (${describeCause(cause)}).\n` +
        'Start one and check that `docker info` answers:\n' +
        '  Linux:          sudo systemctl start docker   (or: sudo dockerd &)\n' +
        '  macOS/Windows:  start Docker Desktop\n' +
        '  Podman:         systemctl --user enable --now podman.socket\n' +
        '                  export DOCKER_HOST=unix://$XDG_RUNTIME_DIR/podman/podman.sock\n' +
        'or point DOCKER_HOST at a running engine (unix://, tcp://host:2375, ssh://user@host).',
      { cause },
    );
  }
}

/** The image is missing and could not be pulled. */
export class ImagePullError extends LoomError {
  override name = 'ImagePullError';
  constructor(
    readonly image: string,
    detail: string,
  ) {
    super(`Could not pull image ${image}: ${detail}`);
  }
}

/** pip or npm failed while preparing a container; `output` is the installer's own message. */
export class PackageInstallError extends LoomError {
  override name = 'PackageInstallError';
  constructor(
    readonly installer: 'pip' | 'npm',
    readonly packages: readonly string[],
    readonly exitCode: number,
    readonly output: string,
  ) {
    super(`${installer} install of ${packages.join(', ')} failed (exit ${exitCode}):\n${output.trim()}`);
  }
}

/** The command cannot run in the image (e.g. a custom image without python3). */
export class CommandNotFoundError extends LoomError {
  override name = 'CommandNotFoundError';
  constructor(
    readonly command: string,
    readonly image: string,
  ) {
    super(`The image ${image} has no command '${command}' on its PATH.`);
  }
}

/** The executor was closed, or the caller aborted while waiting. */
export class ClosedError extends LoomError {
  override name = 'ClosedError';
}

export class AbortedError extends LoomError {
  override name = 'AbortedError';
}

export function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code ? `${code}: ${cause.message}` : cause.message;
  }
  return String(cause);
}

/**
 * gVisor was asked for (config.isolation GVISOR) and the engine has no runtime by that name.
 * Never answered by running under runc instead: the caller asked for the stronger boundary.
 */
export class RuntimeMissingError extends LoomError {
  override name = 'RuntimeMissingError';
  constructor(
    readonly runtime: string,
    readonly available: readonly string[],
  ) {
    super(
      `config.isolation: gVisor needs the engine to have a runtime named '${runtime}', and it has only ${available.length ? available.join(', ') : 'none'}. ` +
        'Nothing was created, and nothing runs under runc instead. To install and register gVisor on the engine host:\n' +
        '  apt-get install runsc          (Debian/Ubuntu; or https://gvisor.dev/docs/user_guide/install/)\n' +
        `  in /etc/docker/daemon.json:    {"runtimes": {"${runtime}": {"path": "/usr/bin/runsc", "runtimeArgs": ["--platform=ptrace", "--network=none"]}}}\n` +
        '  then restart dockerd (systemctl restart docker), or send it SIGHUP to reload its runtimes;\n' +
        `  \`docker info\` then lists '${runtime}' under Runtimes, and \`loom doctor\` tries it.`,
    );
  }
}
