// Sessions against the real engine: state across cells (Python and Node, REPL semantics),
// interrupts, deadlines, an interpreter that cannot be recovered, restart, TTL expiry, isolation
// from stateless runs and between sessions and owners, and a session used from a second Loom
// process (a second executor) after the first one let go.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RuntimeType, SessionState, type ExecuteResponse } from '../../../../shared/gen/loom/v1/docker_pb';
import { createExecutor, type Executor } from '../executor';
import { docker, requireEngineAndImages, text, waitFor } from '../testing/test-support';
import { SessionExpiredError, SessionNotFoundError } from './manager';

let executor: Executor;

beforeAll(async () => {
  await requireEngineAndImages();
  executor = await createExecutor({ minIdlePerConfig: 0, reapOrphans: false, sessionSweepIntervalMs: 200 });
}, 60_000);

afterAll(async () => {
  await executor?.close();
});

const plain = (r: ExecuteResponse): string[] => r.outputs.map((o) => text(o.items.find((i) => i.mime === 'text/plain')?.data ?? new Uint8Array()));
const newPython = async (): Promise<string> => (await executor.sessions.create({ config: { name: 'session-test' } })).id;
const run = (sessionId: string, code: string, timeoutSeconds = 0): Promise<ExecuteResponse> => executor.sessions.run({ sessionId, code, timeoutSeconds });

describe('sessions', () => {
  it('keeps variables, functions and imports between Python cells, and shows a final expression', async () => {
    const id = await newPython();
    const first = await run(id, 'import math\nx = 41\ndef twice(v):\n    return 2 * v\nprint("defined")');
    expect(first.cell?.status).toBe('ok');
    expect(text(first.stdout)).toBe('defined\n');
    expect(first.outputs).toHaveLength(0);
    const second = await run(id, 'x + 1');
    expect(plain(second)).toEqual(['42']);
    expect(second.cell?.executionCount).toBe(2);
    const third = await run(id, 'import asyncio\nawait asyncio.sleep(0.01)\ntwice(math.floor(x / 2))');
    expect(third.cell?.status).toBe('ok');
    expect(plain(third)).toEqual(['40']);
    // A cell is a trace: docker.execute with the session id over the cell's own spans.
    const root = third.spans.find((s) => s.name === 'docker.execute');
    expect(root?.attributes?.['loom.session_id']).toBe(id);
    await executor.sessions.close(id);
  }, 120_000);

  it('runs Node cells with top-level await and a final expression, and display()', async () => {
    const { id } = await executor.sessions.create({ runtimeType: RuntimeType.NODE, config: { name: 'session-test-node' } });
    await run(id, 'const base = 40; function plus(a) { return base + a }');
    const r = await run(id, 'const v = await Promise.resolve(2); display({ answer: plus(v) }); plus(v)');
    expect(r.cell?.status).toBe('ok');
    expect(r.outputs).toHaveLength(2);
    expect(JSON.parse(text(r.outputs[0]!.items.find((i) => i.mime === 'application/json')!.data))).toEqual({ answer: 42 });
    expect(plain(r)[1]).toBe('42');
    const err = await run(id, 'throw new TypeError("nope")');
    expect(err.cell?.status).toBe('error');
    expect(err.cell?.errorName).toBe('TypeError');
    expect(plain(await run(id, 'base'))).toEqual(['40']);
    await executor.sessions.close(id);
  }, 120_000);

  it('reports an exception as the cell\'s error and lives on', async () => {
    const id = await newPython();
    await run(id, 'y = 5');
    const r = await run(id, '1 / 0');
    expect(r.exitCode).not.toBe(0);
    expect(r.cell?.status).toBe('error');
    expect(r.cell?.errorName).toBe('ZeroDivisionError');
    expect(text(r.stderr)).toContain('ZeroDivisionError');
    expect(plain(await run(id, 'y'))).toEqual(['5']);
    await executor.sessions.close(id);
  }, 120_000);

  it('stops a cell at its deadline and on an interrupt, and keeps the session', async () => {
    const id = await newPython();
    await run(id, 'kept = "yes"');
    const timedOut = await run(id, 'while True:\n    pass', 1);
    expect(timedOut.cell?.status).toBe('timeout');
    expect(timedOut.timedOut).toBe(true);
    const abort = new AbortController();
    const sleeping = executor.sessions.run({ sessionId: id, code: 'import time\ntime.sleep(60)' }, { signal: abort.signal });
    setTimeout(() => abort.abort(), 1000);
    const interrupted = await sleeping;
    expect(interrupted.cell?.status).toBe('interrupted');
    const viaCall = executor.sessions.run({ sessionId: id, code: 'import time\ntime.sleep(60)' });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await executor.sessions.interrupt(id);
    expect((await viaCall).cell?.status).toBe('interrupted');
    expect(plain(await run(id, 'kept'))).toEqual(["'yes'"]);
    await executor.sessions.close(id);
  }, 120_000);

  it('replaces an interpreter that ignores the interrupt, and says so: variables go, files stay', async () => {
    const id = await newPython();
    await run(id, 'lost = 1\nopen("kept.txt", "w").write("still here")');
    const r = await run(id, 'import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\ntime.sleep(120)', 1);
    expect(r.cell?.status).toBe('restarted');
    expect(r.cell?.errorValue).toMatch(/did not stop.*restarted/);
    const after = await run(id, 'lost');
    expect(after.cell?.errorName).toBe('NameError');
    expect(plain(await run(id, 'open("kept.txt").read()'))).toEqual(["'still here'"]);
    await executor.sessions.close(id);
  }, 120_000);

  it('restarts with a fresh interpreter and the same files', async () => {
    const id = await newPython();
    await run(id, 'z = 3\nopen("data.txt", "w").write("abc")');
    const info = await executor.sessions.restart(id);
    expect(info.executionCount).toBe(0);
    expect((await run(id, 'z')).cell?.errorName).toBe('NameError');
    expect(plain(await run(id, 'open("data.txt").read()'))).toEqual(["'abc'"]);
    await executor.sessions.close(id);
  }, 120_000);

  it('expires an idle session: its container is removed and a later call says "expired"', async () => {
    const { id, containerId } = await executor.sessions.create({ config: { name: 'session-test' }, idleTtlSeconds: 1 });
    await waitFor('the session to expire', async () => {
      try {
        await docker.getContainer(containerId).inspect();
        return false;
      } catch {
        return true;
      }
    });
    await expect(run(id, '1')).rejects.toThrow(SessionExpiredError);
    await expect(run(id, '1')).rejects.toThrow(/expired/);
  }, 60_000);

  it('never shares a session container with stateless runs, and keeps its files from them', async () => {
    const config = { name: 'session-iso' };
    const { id, containerId } = await executor.sessions.create({ config });
    await run(id, 'open("/tmp/secret.txt", "w").write("session only")');
    expect(executor.containers().map((c) => c.id)).not.toContain(containerId);
    for (let i = 0; i < 3; i++) {
      const r = await executor.execute({ command: ['python3', '-c', 'import os; print(os.path.exists("/tmp/secret.txt"))'], config });
      expect(r.containerId).not.toBe(containerId);
      expect(text(r.stdout)).toBe('False\n');
    }
    await executor.sessions.close(id);
  }, 120_000);

  it('keeps sessions apart from each other and from other owners', async () => {
    const a = (await executor.sessions.create({ config: { name: 'session-test' } }, { owner: 'alice' })).id;
    const b = (await executor.sessions.create({ config: { name: 'session-test' } }, { owner: 'bob' })).id;
    await executor.sessions.run({ sessionId: a, code: 'secret = 1\nopen("a.txt", "w").write("a")' }, { owner: 'alice' });
    const inB = await executor.sessions.run({ sessionId: b, code: 'import os\nprint(os.path.exists("a.txt"))\nsecret' }, { owner: 'bob' });
    expect(text(inB.stdout)).toBe('False\n');
    expect(inB.cell?.errorName).toBe('NameError');
    await expect(executor.sessions.run({ sessionId: a, code: 'secret' }, { owner: 'bob' })).rejects.toThrow(SessionNotFoundError);
    await expect(executor.sessions.files.list(a, '', { owner: 'bob' })).rejects.toThrow(SessionNotFoundError);
    expect((await executor.sessions.list({ owner: 'bob' })).map((s) => s.id)).toEqual([b]);
    await executor.sessions.close(a, { owner: 'alice' });
    await executor.sessions.close(b, { owner: 'bob' });
  }, 120_000);

  it('lives on for another Loom process when its creator lets go', async () => {
    const first = await createExecutor({ minIdlePerConfig: 0, reapOrphans: false, keepSessionsOnClose: true });
    const { id } = await first.sessions.create({ config: { name: 'session-test' } });
    await first.sessions.run({ sessionId: id, code: 'carried = 7' });
    await first.close();
    const listed = await executor.sessions.list();
    expect(listed.find((s) => s.id === id)?.state).toBe(SessionState.IDLE);
    const r = await run(id, 'carried * 6');
    expect(plain(r)).toEqual(['42']);
    expect(r.cell?.executionCount).toBe(2);
    await executor.sessions.close(id);
    await expect(run(id, '1')).rejects.toThrow(SessionNotFoundError);
  }, 120_000);

  it("joins a caller's trace from traceparent: docker.execute under the caller's span", async () => {
    const id = await newPython();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    const r = await executor.sessions.run({ sessionId: id, code: 'print("traced")', traceparent: `00-${traceId}-${callerSpan}-01` });
    expect(r.traceId).toBe(traceId);
    const root = r.spans.find((s) => s.name === 'docker.execute');
    expect(root).toMatchObject({ traceId, parentSpanId: callerSpan });
    expect(r.spans.every((s) => s.traceId === traceId)).toBe(true);
    // Without one, each cell is a trace of its own.
    const own = await run(id, '1');
    expect(own.traceId).not.toBe(traceId);
    expect(own.spans.find((s) => s.name === 'docker.execute')?.parentSpanId ?? '').toBe('');
    await expect(executor.sessions.run({ sessionId: id, code: '1', traceparent: 'not-a-traceparent' })).rejects.toThrow(/traceparent/);
    await executor.sessions.close(id);
  }, 120_000);

  it('refuses bad input with the field named', async () => {
    await expect(run('nope', '1')).rejects.toThrow(/session_id/);
    await expect(executor.sessions.create({ runtimeType: RuntimeType.CUSTOM })).rejects.toThrow(/runtime_type/);
    await expect(executor.sessions.create({ idleTtlSeconds: -1 })).rejects.toThrow(/idle_ttl_seconds/);
  });
});
