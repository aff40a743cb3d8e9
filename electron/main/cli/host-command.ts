// `loom host`: a Loom host process without a window, which serves the `loom exec` processes of
// this user (api/handoff-host.ts) from its warm executor until it has had no run for a while.
// bin/loom's native client starts one in the background when it finds none (bin/loom-exec.c), so
// that an agent harness that shells out to `loom exec` once per step pays Node's start-up once.
import { createExecutor, type Executor } from '../engine/executor';
import { startHandoffHost } from '../api/handoff-host';
import { handoffDir } from '../api/handoff-channel';
import { UsageError, flag, parseInteger, parseWithPositionals, stringOption } from './args';
import { DEFAULT_KEEP_WARM_SECONDS } from './exec-options';
import { EXIT, note, reportLoomError, reportUsage, type Io } from './format';
import { HELP_OPTION, renderHelp, toSpecs, type CommandHelp } from './help';
import { listenForStop } from './stop-signal';

export const HOST_HELP: CommandHelp = {
  usage: ['loom host [--idle SECONDS]'],
  summary:
    "Serves this user's `loom exec` processes from one warm engine client, without a window: they hand\n" +
    'their runs to it over a socket only this user can open, and start in milliseconds instead of\n' +
    "Node's start-up. bin/loom starts one in the background when a `loom exec` finds none (not with\n" +
    'LOOM_NO_HANDOFF=1 or LOOM_KEEP_WARM=0). `loom ui` and the app serve them the same way.',
  options: [
    { name: 'idle', value: 'SECONDS', help: 'stop after this long without a run (0: only on Ctrl+C)', default: `$LOOM_KEEP_WARM, else ${DEFAULT_KEEP_WARM_SECONDS}` },
    HELP_OPTION,
  ],
  after: `The socket and its token are in $LOOM_HOME/run when LOOM_HOME is set, else in
$XDG_RUNTIME_DIR/loom, else ~/.cache/loom. Stopping removes this process's containers.`,
};

/** How often the idle time is looked at. */
const IDLE_CHECK_MS = 500;

export async function hostCommand(argv: readonly string[], io: Io): Promise<number> {
  let idleSeconds: number;
  try {
    const { values, positionals } = parseWithPositionals(argv, toSpecs(HOST_HELP.options));
    if (flag(values, 'help')) {
      io.stdout.write(renderHelp(HOST_HELP));
      return 0;
    }
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const raw = stringOption(values, 'idle');
    const fromEnv = process.env['LOOM_KEEP_WARM'];
    idleSeconds = raw !== undefined ? parseInteger('idle', raw) : fromEnv ? parseInteger('LOOM_KEEP_WARM', fromEnv) : DEFAULT_KEEP_WARM_SECONDS;
    if (idleSeconds < 0) throw new UsageError(`--idle must be 0 or more seconds, got ${idleSeconds}`, '--idle');
  } catch (err) {
    if (err instanceof UsageError) return reportUsage(io, err, 'loom host', false);
    throw err;
  }

  const stop = listenForStop(io);
  let executor: Executor;
  try {
    executor = await createExecutor({
      // Its containers serve others' runs for as long as it lives, and go with it.
      idleTtlMs: (idleSeconds || DEFAULT_KEEP_WARM_SECONDS) * 1000,
      onError: (err) => note(io, `warning: ${err instanceof Error ? err.message : String(err)}`),
    });
  } catch (err) {
    stop.dispose();
    return reportLoomError(io, err, false);
  }
  const host = await startHandoffHost({ executor: () => Promise.resolve(executor) }).catch((err: unknown) => {
    note(io, `cannot serve loom exec: ${err instanceof Error ? err.message : String(err)}`);
    return null;
  });
  if (!host) {
    stop.dispose();
    await executor.close();
    note(io, `another Loom host process serves loom exec in ${handoffDir()} already`);
    return EXIT.loomError;
  }
  note(io, `serving loom exec at ${host.socket}; ${idleSeconds ? `stops after ${idleSeconds} s without a run, or on Ctrl+C` : 'stops on Ctrl+C'}`);

  const idle = new Promise<void>((resolve) => {
    if (!idleSeconds) return;
    const timer = setInterval(() => {
      if (host.idleMs() < idleSeconds * 1000) return;
      clearInterval(timer);
      note(io, `no run for ${idleSeconds} s: stopping`);
      resolve();
    }, IDLE_CHECK_MS);
    void stop.stopped.then(() => clearInterval(timer));
  });
  await Promise.race([stop.stopped, idle]);
  stop.dispose();
  await host.close();
  await executor.close();
  return 0;
}
