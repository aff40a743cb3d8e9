// Executor.stream() against the real engine: a consumer that leaves early ends the run (its
// container is idle again, not busy until the deadline), and a consumer that sleeps while the
// program floods its output holds no more than the stream's bound.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_OUTPUT_BYTES } from '../../../shared/defaults';
import { ContainerState, type ContainerInfo, type ExecuteEvent } from '../../../shared/gen/loom/v1/docker_pb';
import { DEFAULT_STREAM_BUFFER_BYTES } from './event-stream';
import { createExecutor, type Executor } from './executor';
import { requireEngineAndImages, text, waitFor } from './testing/test-support';

let executor: Executor;

beforeAll(async () => {
  await requireEngineAndImages();
  executor = await createExecutor({ maxContainersPerKey: 2, minIdlePerConfig: 0 });
});

afterAll(async () => {
  await executor?.close();
});

const py = (code: string) => ['python3', '-c', code];

/** The one container of a config (each test warms exactly one up first). */
function containerOf(config: { name: string }): ContainerInfo {
  const found = executor.containers().filter((c) => c.configName === config.name);
  expect(found).toHaveLength(1);
  return found[0] as ContainerInfo;
}

async function warmUp(config: { name: string }): Promise<string> {
  const r = await executor.execute({ command: py('pass'), config });
  expect(r.usage?.via).toBe('runner');
  return r.containerId;
}

describe('executor.stream', () => {
  it('kills the program when the consumer breaks: its container is idle within 2 s and serves the next run warm', async () => {
    const config = { name: 'stream-break' };
    const id = await warmUp(config);
    // The marker is in the program's command line, so a leftover process can be found by it.
    const loop = py("# loom-stream-loop\nwhile True: print('tick', flush=True)");
    // Unbuffered (PYTHONUNBUFFERED, Loom's default), print writes the word and its newline
    // apart: they may come in two chunks.
    let seen = '';
    for await (const event of executor.stream({ command: loop, config, timeoutSeconds: 120 })) {
      if (event.event.case === 'stdout') {
        seen += text(event.event.value);
        expect(containerOf(config).state).toBe(ContainerState.BUSY);
        if (seen.includes('\n')) break;
      }
    }
    expect(seen).toMatch(/^tick\n/);
    await waitFor('the container to be idle again', async () => containerOf(config).state === ContainerState.IDLE, 2_000);

    const next = await executor.execute({
      command: py("import os\nme = str(os.getpid())\nprint(sum(1 for p in os.listdir('/proc') if p.isdigit() and p != me and b'loom-stream-loop' in open(f'/proc/{p}/cmdline', 'rb').read()))"),
      config,
    });
    expect(text(next.stdout)).toBe('0\n');
    expect(next.containerCreated).toBe(false);
    expect(next.containerId).toBe(id);
    // Taken from the pool, not made: a cold start takes seconds.
    expect(next.timings?.containerMs).toBeLessThan(2_000);
  });

  it('holds at most its bound of output while the consumer sleeps through 64 MiB, and still ends with done', async () => {
    const config = { name: 'stream-flood' };
    await warmUp(config);
    // Four times the bound: enough to show it holds, at the engine's few MB/s on a busy machine.
    const total = 64 * 1024 * 1024;
    const stream = executor.stream({
      command: py(`import sys\nb = b'x' * 65536\nfor _ in range(${total / 65536}): sys.stdout.buffer.write(b)`),
      config,
      timeoutSeconds: 120,
    });
    let delivered = 0;
    let peak = 0;
    let slept = false;
    let last: ExecuteEvent | undefined;
    for await (const event of stream) {
      last = event;
      if (event.event.case !== 'stdout') continue;
      delivered += event.event.value.length;
      if (slept) continue;
      slept = true;
      // Read nothing until the program has written everything, watching what the stream holds.
      await waitFor(
        'the program to end',
        async () => {
          peak = Math.max(peak, stream.bufferedBytes);
          return containerOf(config).state === ContainerState.IDLE;
        },
        120_000,
      );
    }
    expect(peak).toBeLessThanOrEqual(DEFAULT_STREAM_BUFFER_BYTES);
    // The consumer did fall behind: the bound was reached, the rest dropped from the live view.
    expect(peak).toBeGreaterThan(DEFAULT_STREAM_BUFFER_BYTES / 2);
    expect(stream.droppedBytes.stdout).toBeGreaterThan(0);
    expect(delivered + stream.droppedBytes.stdout).toBe(total);
    expect(last?.event.case).toBe('done');
    const response = last?.event.case === 'done' ? last.event.value : undefined;
    expect(response?.exitCode).toBe(0);
    // The response keeps its own first max_output_bytes, whatever the stream dropped.
    expect(response?.stdoutTruncated).toBe(true);
    expect(response?.stdout.length).toBe(DEFAULT_MAX_OUTPUT_BYTES);
  });
});
