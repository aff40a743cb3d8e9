import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { OutputRelay } from './output-relay';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

function relayed(): { relay: OutputRelay; stdout: PassThrough; stderr: PassThrough } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  return { relay: new OutputRelay({ stdout, stderr, stdin: Readable.from([]) }), stdout, stderr };
}

describe('OutputRelay', () => {
  it('writes each chunk to its stream at once and knows whether the last one ended a line', () => {
    const { relay, stdout, stderr } = relayed();
    expect(relay.atLineStart).toBe(true);
    relay.write('stdout', bytes('one\n'));
    expect(relay.atLineStart).toBe(true);
    relay.write('stderr', bytes('no newline'));
    expect(relay.atLineStart).toBe(false);
    relay.write('stdout', new Uint8Array());
    expect(relay.atLineStart).toBe(false);
    expect(String(stdout.read())).toBe('one\n');
    expect(String(stderr.read())).toBe('no newline');
  });

  it("passes a program's own output that looks like a runtime error straight through", () => {
    // The engine holds back the runtime's "no such command" text itself; the relay holds nothing.
    const { relay, stdout } = relayed();
    relay.write('stdout', bytes('OCI runtime exec failed: printed by the program\n'));
    expect(String(stdout.read())).toBe('OCI runtime exec failed: printed by the program\n');
  });

  it('drops output once its stream is destroyed (the reader went away)', () => {
    const { relay, stdout, stderr } = relayed();
    stdout.destroy();
    relay.write('stdout', bytes('lost\n'));
    relay.write('stderr', bytes('kept\n'));
    expect(String(stderr.read())).toBe('kept\n');
  });
});
