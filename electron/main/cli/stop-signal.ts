// Ctrl+C for a command that serves until stopped (`loom ui`, `loom host`): the first SIGINT or
// SIGTERM stops it cleanly, a second one while it stops exits at once.
import { EXIT, note, type Io } from './format';

export interface StopSignal {
  /** Resolves on the first SIGINT or SIGTERM; a second one while stopping exits at once. */
  stopped: Promise<void>;
  /** Gives the signals back (when the command ends without having served). */
  dispose(): void;
}

export function listenForStop(io: Io): StopSignal {
  let done = (): void => undefined;
  const stopped = new Promise<void>((resolve) => (done = resolve));
  const force = (): void => {
    note(io, "stopped without cleaning up: 'loom containers prune' removes what is left");
    process.exit(EXIT.interrupted);
  };
  const stop = (): void => {
    dispose();
    process.once('SIGINT', force);
    process.once('SIGTERM', force);
    done();
  };
  const dispose = (): void => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  return { stopped, dispose };
}
