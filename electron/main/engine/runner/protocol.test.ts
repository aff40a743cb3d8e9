// The frame format on its own: reassembly from arbitrary pieces, and payload validation; and the
// protocol's source, protocol.json, as its generator reads it.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  decodeError,
  decodeExit,
  decodeReady,
  encodeFrame,
  encodeJsonFrame,
  FrameParser,
  FrameType,
  HEADER_SIZE,
  MAX_PAYLOAD,
  ProtocolError,
  type Frame,
} from './protocol';
import spec from './protocol.json';

function collect(): { parser: FrameParser; frames: Frame[] } {
  const frames: Frame[] = [];
  return { parser: new FrameParser((f) => frames.push({ ...f, payload: Buffer.from(f.payload) })), frames };
}

describe('runner frames', () => {
  it('encodes type, execution id and length big-endian before the payload', () => {
    const frame = encodeFrame(FrameType.STDOUT, 0x01020304, Buffer.from('hi'));
    expect([...frame]).toEqual([0x83, 1, 2, 3, 4, 0, 0, 0, 2, 0x68, 0x69]);
    expect(encodeFrame(FrameType.STDIN_EOF, 7).length).toBe(HEADER_SIZE);
  });

  it('reassembles frames split at every possible byte boundary', () => {
    const stream = Buffer.concat([
      encodeFrame(FrameType.STDOUT, 1, Buffer.from('hello')),
      encodeFrame(FrameType.STDERR, 1, Buffer.alloc(0)),
      encodeJsonFrame(FrameType.EXIT, 1, { exitCode: 0 }),
    ]);
    for (let cut1 = 0; cut1 <= stream.length; cut1++) {
      for (let cut2 = cut1; cut2 <= stream.length; cut2 += 3) {
        const { parser, frames } = collect();
        parser.push(stream.subarray(0, cut1));
        parser.push(stream.subarray(cut1, cut2));
        parser.push(stream.subarray(cut2));
        expect(frames.map((f) => [f.type, f.id, f.payload.toString()])).toEqual([
          [FrameType.STDOUT, 1, 'hello'],
          [FrameType.STDERR, 1, ''],
          [FrameType.EXIT, 1, '{"exitCode":0}'],
        ]);
      }
    }
  });

  it('reassembles a large payload fed one small piece at a time', () => {
    const payload = Buffer.alloc(1 << 20, 7);
    const stream = encodeFrame(FrameType.STDOUT, 9, payload);
    const { parser, frames } = collect();
    for (let at = 0; at < stream.length; at += 4093) parser.push(stream.subarray(at, at + 4093));
    expect(frames).toHaveLength(1);
    expect(frames[0]?.payload.equals(payload)).toBe(true);
  });

  it('refuses a length past MAX_PAYLOAD instead of buffering forever', () => {
    const head = Buffer.alloc(HEADER_SIZE);
    head.writeUInt8(FrameType.STDOUT, 0);
    head.writeUInt32BE(MAX_PAYLOAD + 1, 5);
    expect(() => collect().parser.push(head)).toThrow(ProtocolError);
  });

  it('validates payloads from a runner that cannot be trusted', () => {
    expect(() => decodeReady(Buffer.from('not json'))).toThrow(ProtocolError);
    expect(() => decodeReady(Buffer.from('{"runner":"ruby"}'))).toThrow(ProtocolError);
    expect(decodeReady(Buffer.from('{"runner":"node","pid":7,"version":1,"env":{"A":"1","B":2}}')).env).toEqual({ A: '1' });
    expect(decodeExit(Buffer.from('{"exitCode":"0","timedOut":"yes"}'))).toMatchObject({ exitCode: -1, timedOut: false, signal: null });
    expect(decodeError(Buffer.from('{"message":"x","code":"weird"}')).code).toBe('spawn_failed');
  });
});

describe('protocol.json, the source of the generated constants', () => {
  const generator = resolve(import.meta.dirname, '../../../../scripts/gen-protocol.mjs');

  /** What the generator says of `source` (as the project's protocol.json): its error, or 'ok'. */
  function verdict(source: unknown): string {
    const root = mkdtempSync(join(tmpdir(), 'loom-protocol-'));
    onTestFinished(() => rmSync(root, { recursive: true, force: true }));
    const file = join(root, 'electron/main/engine/runner/protocol.json');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(source));
    const script = `import { protocolFiles } from ${JSON.stringify(pathToFileURL(generator).href)};
try { protocolFiles(${JSON.stringify(root)}); console.log('ok'); } catch (err) { console.log(err.message); }`;
    const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    return `${out.stdout}${out.stderr}`.trim();
  }

  it('is read as it is', () => {
    expect(verdict(spec)).toBe('ok');
  });

  it('has a mistake named by its place and what is wrong', () => {
    const frames = spec.frames.map((f) => (f.name === 'SPANS' ? { ...f, type: 0x07 } : f));
    expect(verdict({ ...spec, frames })).toMatch(/protocol\.json: frames\[12\]\.type: must be an integer in 128\.\.255 for a frame from the runner$/);
    expect(verdict({ ...spec, frames: [...spec.frames, spec.frames[0]] })).toMatch(new RegExp(`frames\\[${spec.frames.length}\\]\\.name: "RUN" appears twice$`));
    const payloads = spec.payloads.map((p) => (p.name === 'ExitInfo' ? { ...p, frame: 'EXITED' } : p));
    expect(verdict({ ...spec, payloads })).toMatch(/payloads\[4\]\.frame: names no frame \("EXITED"\)$/);
    expect(verdict({ ...spec, constants: [{ name: 'MAX_CHUNK', value: -1, doc: 'x' }] })).toMatch(/constants\[0\]\.value: must be a non-negative integer$/);
  });
});
