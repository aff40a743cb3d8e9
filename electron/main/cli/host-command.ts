// `loom host`: a Loom host process without a window, which serves the `loom exec` processes of
// this user (api/handoff-host.ts) from its warm executor until it has had no run for a while.
// bin/loom's native client starts one in the background when it finds none (bin/loom-exec.c), so
// that an agent harness that shells out to `loom exec` once per step pays Node's start-up once.
import { existsSync } from 'node:fs';
import { handoffDir, socketPath } from '../api/handoff-channel';
import { startHandoffHost } from '../api/handoff-host';
import { createExecutor, type Executor } from '../engine/executor';
import { UsageError, flag, parseInteger, parseWithPositionals, stringOption } from './args';
import { DEFAULT_KEEP_WARM_SECONDS, keepWarmFromEnv } from './exec-options';
import { EXIT, note, reportLoomError, reportUsage, type Io } from './format';
import { askHostToStop } from './handoff-client';
import { HELP_OPTION, renderHelp, toSpecs, type CommandHelp } from './help';
import { listenForStop } from './stop-signal';

export const HOST_HELP: CommandHelp = {
  usage: ['loom host [--idle SECONDS]', 'loom host --stop'],
  summary:
    "Serves this user's `loom exec` processes from one warm engine client, without a window: they hand\n" +
    'their runs to it over a socket only this user can open, and start in milliseconds instead of\n' +
    "Node's start-up. bin/loom starts one in the background when a `loom exec` finds none (not with\n" +
    'LOOM_NO_HANDOFF=1 or LOOM_KEEP_WARM=0). `loom ui` and the app serve them the same way.',
  options: [
    { name: 'idle', value: 'SECONDS', help: 'stop after this long without a run (0: only on Ctrl+C or --stop)', default: `$LOOM_KEEP_WARM, else ${DEFAULT_KEEP_WARM_SECONDS}` },
    { name: 'stop', help: 'stop the `loom host` that serves this user (one started in the background too); runs in progress are cancelled' },
    HELP_OPTION,
  ],
  after: `The socket and its token are in $LOOM_HOME/run when LOOM_HOME is set, else in
$XDG_RUNTIME_DIR/loom, else ~/.cache/loom. Stopping removes this process's containers.`,
};

/** How often the idle time is looked at. */
const IDLE_CHECK_MS = 500;
/** How long --stop waits for the host to be gone. */
const STOP_WAIT_MS = 60_000;

export async function hostCommand(argv: readonly string[], io: Io): Promise<number> {
  let idleSeconds: number;
  try {
    const { values, positionals } = parseWithPositionals(argv, toSpecs(HOST_HELP.options));
    if (flag(values, 'help')) {
      io.stdout.write(renderHelp(HOST_HELP));
      return 0;
    }
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    if (flag(values, 'stop')) return await stopHost(io);
    const raw = stringOption(values, 'idle');
    idleSeconds = raw !== undefined ? parseInteger('idle', raw) : keepWarmFromEnv(process.env);
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
  let stopAsked = (): void => undefined;
  const asked = new Promise<void>((resolve) => (stopAsked = resolve));
  const host = await startHandoffHost({ executor: () => Promise.resolve(executor), onStop: () => stopAsked() }).catch((err: unknown) => {
    note(io, `cannot serve loom exec: ${err instanceof Error ? err.message : String(err)}`);
    return null;
  });
  if (!host) {
    stop.dispose();
    await executor.close();
    note(io, `another Loom host process serves loom exec in ${handoffDir()} already`);
    return EXIT.loomError;
  }
  note(io, `serving loom exec at ${host.socket}; stops ${idleSeconds ? `after ${idleSeconds} s without a run, ` : ''}on Ctrl+C or loom host --stop`);

  let timer: NodeJS.Timeout | undefined;
  const idle = new Promise<void>((resolve) => {
    if (!idleSeconds) return;
    timer = setInterval(() => {
      if (host.idleMs() < idleSeconds * 1000) return;
      note(io, `no run for ${idleSeconds} s: stopping`);
      resolve();
    }, IDLE_CHECK_MS);
  });
  await Promise.race([stop.stopped, idle, asked.then(() => note(io, 'asked to stop (loom host --stop): stopping'))]);
  clearInterval(timer);
  stop.dispose();
  await host.close();
  await executor.close();
  return 0;
}

/** `loom host --stop`: asks the host to stop, and waits until it no longer serves (its containers removed). */
async function stopHost(io: Io): Promise<number> {
  const answer = await askHostToStop();
  if (answer === 'none') {
    note(io, `no loom host serves loom exec in ${handoffDir()}`);
    return 0;
  }
  if (answer !== 'stopping') {
    note(io, `the Loom host process there declined: ${answer.declined}`);
    return EXIT.loomError;
  }
  // Its runs are cancelled, its containers removed, then its socket: gone once the socket is.
  for (const end = Date.now() + STOP_WAIT_MS; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
    if (!existsSync(socketPath(handoffDir()))) {
      note(io, 'stopped');
      return 0;
    }
  }
  note(io, `asked to stop, but it still serves after ${STOP_WAIT_MS / 1000} s (its runs may not have ended)`);
  return EXIT.loomError;
}
