// What sessions cost: a Python cell `x + 1` in a warm session (the kernel's round trip, against
// the warm run's p50), creating a session (container and interpreter, against a cold run), and
// the memory an idle session's container holds (the engine's figure, less page cache).
import type Docker from 'dockerode';
import { createExecutor } from '../electron/main/engine/executor';
import { summarize, type Summary } from './stats';

export interface SessionFigures {
  cell: Summary;
  create: Summary;
  /** Mean memory of an idle session's container (MB), as `docker stats` counts it less cache. */
  idleMemoryMb: number;
  wrong: number;
}

async function memoryMb(docker: Docker, id: string): Promise<number> {
  const stats = (await docker.getContainer(id).stats({ stream: false })) as { memory_stats?: { usage?: number; stats?: { cache?: number; inactive_file?: number } } };
  const m = stats.memory_stats ?? {};
  return ((m.usage ?? 0) - (m.stats?.inactive_file ?? m.stats?.cache ?? 0)) / (1024 * 1024);
}

export async function measureSessions(docker: Docker, nCells: number, nCreate: number, onError: (err: unknown) => void): Promise<SessionFigures> {
  const executor = await createExecutor({ docker, reapOrphans: false, minIdlePerConfig: 0, onError });
  const config = { name: 'bench-session' };
  let wrong = 0;
  try {
    const create: number[] = [];
    const ids: string[] = [];
    for (let i = 0; i < nCreate; i++) {
      const t = performance.now();
      const info = await executor.sessions.create({ config });
      create.push(performance.now() - t);
      ids.push(info.id);
    }
    const [first] = ids;
    if (!first) throw new Error('no session was made');
    await executor.sessions.run({ sessionId: first, code: 'x = 1' });
    // A few untimed cells: the interpreter's first ones warm its caches.
    for (let i = 0; i < 5; i++) await executor.sessions.run({ sessionId: first, code: 'x + 1' });
    const cell: number[] = [];
    for (let i = 0; i < nCells; i++) {
      const t = performance.now();
      const r = await executor.sessions.run({ sessionId: first, code: 'x + 1' });
      cell.push(performance.now() - t);
      const shown = r.outputs[0]?.items.find((o) => o.mime === 'text/plain')?.data;
      if (!shown || Buffer.from(shown).toString() !== '2') wrong++;
    }
    // Idle: give the interpreters a moment to settle after their last cell.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const infos = await executor.sessions.list();
    const mem = await Promise.all(infos.filter((s) => ids.includes(s.id)).map((s) => memoryMb(docker, s.containerId)));
    return { cell: summarize(cell), create: summarize(create), idleMemoryMb: mem.reduce((a, b) => a + b, 0) / Math.max(1, mem.length), wrong };
  } finally {
    await executor.close();
  }
}
