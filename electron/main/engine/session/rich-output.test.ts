// Rich outputs against the real engine, in an image with Debian's matplotlib and pandas
// (scripts/build-images.sh data): a figure by plt.show() and as a final value becomes a real
// PNG, a DataFrame an HTML table plus JSON data, display() MIME bundles in the order produced.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RuntimeType, type ExecuteResponse } from '../../../../shared/gen/loom/v1/docker_pb';
import { createExecutor, type Executor } from '../executor';
import { docker, requireEngineAndImages, text } from '../testing/test-support';

const DATA_IMAGE = 'loom-python-data:3.11';
let executor: Executor;
let id: string;

beforeAll(async () => {
  await requireEngineAndImages();
  await docker
    .getImage(DATA_IMAGE)
    .inspect()
    .catch(() => {
      throw new Error(`These tests need the image ${DATA_IMAGE}: build it with \`bash scripts/build-images.sh data\``);
    });
  executor = await createExecutor({ minIdlePerConfig: 0, reapOrphans: false });
  id = (await executor.sessions.create({ config: { name: 'rich-test', imageSource: { case: 'baseImage', value: DATA_IMAGE }, resourceLimits: { memoryMb: 1024n } } })).id;
}, 120_000);

afterAll(async () => {
  await executor?.close();
});

const mimes = (r: ExecuteResponse): string[][] => r.outputs.map((o) => o.items.map((i) => i.mime).sort());
const item = (r: ExecuteResponse, index: number, mime: string): Uint8Array => r.outputs[index]!.items.find((i) => i.mime === mime)!.data;

/** Width and height from a PNG's IHDR, after checking the signature: a real, decodable header. */
function pngSize(data: Uint8Array): { width: number; height: number } {
  const b = Buffer.from(data);
  expect(b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
  expect(b.subarray(12, 16).toString('ascii')).toBe('IHDR');
  expect(b.subarray(b.length - 8, b.length - 4).toString('ascii')).toBe('IEND');
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

describe('rich outputs', () => {
  it('shows a figure from plt.show() as a PNG, in order with the prints', async () => {
    const r = await executor.sessions.run({
      sessionId: id,
      code: 'import matplotlib.pyplot as plt\nprint("before")\nplt.plot([1, 2, 3], [1, 4, 9])\nplt.show()\nprint("after")',
    });
    expect(r.cell?.status).toBe('ok');
    expect(text(r.stdout)).toBe('before\nafter\n');
    expect(mimes(r)).toEqual([['image/png', 'text/plain']]);
    const { width, height } = pngSize(item(r, 0, 'image/png'));
    expect(width).toBeGreaterThan(100);
    expect(height).toBeGreaterThan(100);
  }, 120_000);

  it('shows a figure given as the final value once', async () => {
    const r = await executor.sessions.run({ sessionId: id, code: 'fig, ax = plt.subplots()\nax.bar(["a", "b"], [3, 5])\nfig' });
    expect(mimes(r)).toEqual([['image/png', 'text/plain']]);
    pngSize(item(r, 0, 'image/png'));
  }, 60_000);

  it('shows a DataFrame as an HTML table and JSON data', async () => {
    const r = await executor.sessions.run({ sessionId: id, code: 'import pandas as pd\ndf = pd.DataFrame({"city": ["Oslo", "Lima"], "temp": [3.5, 19.0]})\ndf' });
    expect(mimes(r)).toEqual([['application/json', 'text/html', 'text/plain']]);
    const html = text(item(r, 0, 'text/html'));
    expect(html).toContain('<table');
    expect(html).toContain('<td>Oslo</td>');
    const json = JSON.parse(text(item(r, 0, 'application/json'))) as { data: { city: string; temp: number }[] };
    expect(json.data.map((row) => [row.city, row.temp])).toEqual([
      ['Oslo', 3.5],
      ['Lima', 19],
    ]);
  }, 60_000);

  it('gives a stateless run its display outputs too: Python with matplotlib, and Node', async () => {
    const py = await executor.execute({
      command: ['python3', '-c', 'from loom_display import display\nimport matplotlib.pyplot as plt\ndisplay({"k": 1})\nplt.plot([1, 2])\nplt.show()'],
      config: { name: 'rich-test-run', imageSource: { case: 'baseImage', value: DATA_IMAGE }, resourceLimits: { memoryMb: 1024n } },
    });
    expect(py.exitCode).toBe(0);
    expect(mimes(py)).toEqual([['text/plain'], ['image/png', 'text/plain']]);
    pngSize(item(py, 1, 'image/png'));
    const node = await executor.execute({
      command: ['node', '-e', "const { display } = require('loom-display.js'); display({ a: 1 }); display('<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>')"],
      runtimeType: RuntimeType.NODE,
    });
    expect(node.exitCode).toBe(0);
    expect(mimes(node)).toEqual([['application/json', 'text/plain'], ['image/svg+xml', 'text/plain']]);
    // Display records are outputs, not spans: nothing counted as malformed.
    expect(node.malformedSpans).toBe(0);
  }, 120_000);

  it('display() shows several objects in the order given', async () => {
    const r = await executor.sessions.run({ sessionId: id, code: 'display(df.head(1))\nprint("between")\ndisplay({"k": 1})\nNone' });
    expect(mimes(r)).toEqual([['application/json', 'text/html', 'text/plain'], ['text/plain']]);
    expect(text(item(r, 1, 'text/plain'))).toBe("{'k': 1}");
    expect(text(r.stdout)).toBe('between\n');
  }, 60_000);
});
