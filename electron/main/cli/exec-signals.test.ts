import { PassThrough, Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT, type Io } from './format';
import { RunStops } from './exec-signals';

function io(): Io & { stdout: PassThrough; stderr: PassThrough } {
  return { stdout: new PassThrough(), stderr: new PassThrough(), stdin: Readable.from([]) };
}

const read = (stream: PassThrough): string => String(stream.read() ?? '');

let stops: RunStops | undefined;
afterEach(() => {
  stops?.dispose();
  stops = undefined;
});

describe('RunStops', () => {
  it('SIGTERM stops the run with a note; the exit status is 130, and with --json one error object', () => {
    const out = io();
    stops = new RunStops(out, false);
    process.emit('SIGTERM', 'SIGTERM');
    expect(stops.signal.aborted).toBe(true);
    expect(read(out.stderr)).toBe('loom: SIGTERM: stopping the program and removing its container (again to quit at once)\n');
    expect(stops.exitStatus(false)).toBe(EXIT.interrupted);
    expect(read(out.stdout)).toBe('');
    expect(stops.exitStatus(true)).toBe(EXIT.interrupted);
    expect(JSON.parse(read(out.stdout))).toEqual({ error: { name: 'AbortedError', message: 'interrupted by SIGTERM', signal: 'SIGTERM' } });
  });

  it('quiet: no note', () => {
    const out = io();
    stops = new RunStops(out, true);
    process.emit('SIGINT', 'SIGINT');
    expect(stops.signal.aborted).toBe(true);
    expect(read(out.stderr)).toBe('');
  });

  it('a reader of stdout that went away stops the run as SIGPIPE would (141), without JSON', () => {
    const out = io();
    stops = new RunStops(out, false);
    out.stdout.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    expect(stops.signal.aborted).toBe(true);
    expect(stops.exitStatus(true)).toBe(EXIT.brokenPipe);
    expect(read(out.stdout)).toBe('');
  });

  it('other stdout errors do not stop it', () => {
    const out = io();
    stops = new RunStops(out, false);
    out.stdout.emit('error', Object.assign(new Error('no space'), { code: 'ENOSPC' }));
    expect(stops.signal.aborted).toBe(false);
  });

  it('dispose gives the signals back', () => {
    const before = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
    const out = io();
    const own = new RunStops(out, false);
    expect(process.listenerCount('SIGINT')).toBe((before[0] ?? 0) + 1);
    own.dispose();
    expect([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]).toEqual(before);
    expect(out.stdout.listenerCount('error')).toBe(0);
  });
});
