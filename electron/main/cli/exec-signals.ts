// What stops a `loom exec` run before its program ends: SIGINT or SIGTERM (a second one quits
// at once), and a reader of our stdout that went away, which stops us as SIGPIPE stops a program.
import { EXIT, isBrokenPipe, note, writeJson, type Io } from './format';

/** Where SIGINT and SIGTERM come from: our process, or a native client's CANCEL frames (handoff-host.ts). */
export interface SignalSource {
  on(event: 'SIGINT' | 'SIGTERM', listener: (signal: NodeJS.Signals) => void): unknown;
  off(event: 'SIGINT' | 'SIGTERM', listener: (signal: NodeJS.Signals) => void): unknown;
}

export class RunStops {
  private readonly controller = new AbortController();
  /** Aborted when the run is to stop; passed to the executor. */
  readonly signal = this.controller.signal;
  private interruptedBy: NodeJS.Signals | undefined;
  private brokenPipe = false;

  /** Until dispose(), our SIGINT and SIGTERM are this run's. */
  constructor(
    private readonly io: Io,
    private readonly quiet: boolean,
    private readonly signals: SignalSource = process,
  ) {
    signals.on('SIGINT', this.onSignal);
    signals.on('SIGTERM', this.onSignal);
    io.stdout.on('error', this.onStdoutError);
  }

  /**
   * The exit status of a stopped run; with --json the answer is still one JSON object (but not
   * to a reader that went away).
   */
  exitStatus(json: boolean): number {
    if (this.brokenPipe) return EXIT.brokenPipe;
    if (json) writeJson(this.io, { error: { name: 'AbortedError', message: `interrupted by ${this.interruptedBy ?? 'a signal'}`, signal: this.interruptedBy } });
    return EXIT.interrupted;
  }

  dispose(): void {
    this.signals.off('SIGINT', this.onSignal);
    this.signals.off('SIGTERM', this.onSignal);
    this.io.stdout.off('error', this.onStdoutError);
  }

  private readonly onSignal = (signal: NodeJS.Signals): void => {
    // A second signal: stop waiting for the clean-up (the next Loom start reaps the container).
    // (A native client quits by itself, and a host process is not ours to end.)
    if (this.interruptedBy) {
      if (this.signals === process) process.exit(EXIT.interrupted);
      return;
    }
    this.interruptedBy = signal;
    if (!this.quiet) note(this.io, `${signal}: stopping the program and removing its container (again to quit at once)`);
    this.controller.abort();
  };

  private readonly onStdoutError = (err: unknown): void => {
    if (!isBrokenPipe(err) || this.brokenPipe) return;
    this.brokenPipe = true;
    this.controller.abort();
  };
}
