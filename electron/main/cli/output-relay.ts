// The program's output to our stdout and stderr as it arrives. (The container runtime's own
// "command not found" text never gets here: the engine turns it into CommandNotFoundError.)
import type { Io } from './format';

export class OutputRelay {
  /** Whether the last byte written (to either stream) ended a line, or nothing was written. */
  atLineStart = true;

  constructor(private readonly io: Io) {}

  write(kind: 'stdout' | 'stderr', chunk: Uint8Array): void {
    // After a broken pipe the stream is destroyed: the run is being stopped, drop the rest.
    const stream = this.io[kind] as NodeJS.WritableStream & { destroyed?: boolean };
    if (stream.destroyed || chunk.length === 0) return;
    stream.write(chunk);
    this.atLineStart = chunk[chunk.length - 1] === 0x0a;
  }
}
