// `loom ui`: the app without Electron. Serves the built renderer and the LoomApi on 127.0.0.1
// (the web host) in front of the real Loom service, prints the address with its access token,
// and runs until Ctrl+C, when closing the service removes this process's containers.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startHandoffHost } from '../api/handoff-host';
import { startWebHost, type WebHost } from '../api/web-host';
import { createLoomService, type LoomService } from '../app/service';
import { ValidationError } from '../engine/errors';
import { tracesConfigFrom, type TracesConfig } from '../traces/traces-config';
import { UsageError, flag, parseInteger, parseWithPositionals, stringOption } from './args';
import { EXIT, note, reportLoomError, reportUsage, type Io } from './format';
import { HELP_OPTION, renderHelp, toSpecs, type CommandHelp } from './help';
import { listenForStop } from './stop-signal';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
export const DEFAULT_RENDERER_DIR = join(ROOT, 'out', 'renderer');
export const DEFAULT_UI_PORT = 7377;

export const UI_HELP: CommandHelp = {
  usage: ['loom ui [--port N] [--renderer DIR] [--packages-dir DIR] [--otlp-port N|off] [--collector URL]'],
  summary:
    'Serves the Loom window as a web page on 127.0.0.1, backed by the real engine, and prints its address.\n' +
    'Open that address (it carries the access token) in a browser. Runs until Ctrl+C, which removes the\n' +
    "containers this process created. Serves the renderer built by 'npm run build' (out/renderer).",
  options: [
    { name: 'port', short: 'p', value: 'N', help: `port on 127.0.0.1; 0 picks a free one (the default falls back to a free one when ${DEFAULT_UI_PORT} is taken)`, default: DEFAULT_UI_PORT },
    { name: 'renderer', value: 'DIR', help: 'the built renderer to serve', default: 'out/renderer' },
    { name: 'packages-dir', value: 'DIR', help: 'the only directory local package files (.whl, .tgz, ...) may come from', default: '$LOOM_HOME/packages' },
    { name: 'otlp-port', value: 'N|off', help: "the OTLP/HTTP trace receiver's port on 127.0.0.1 (0: any free one; off: no receiver)", default: '$LOOM_OTLP_PORT, else 4318' },
    { name: 'collector', value: 'URL', help: 'an external OpenTelemetry collector (OTLP/HTTP) that "Open in collector" sends a trace to', default: '$LOOM_TRACE_COLLECTOR' },
    { name: 'collector-view', value: 'URL', help: "that collector's page of a trace, with {traceId} in it", default: '$LOOM_TRACE_COLLECTOR_VIEW' },
    HELP_OPTION,
  ],
  after: `Run history is kept in $LOOM_HOME/history.sqlite (default ~/.loom). The Docker engine is
$DOCKER_HOST, else the local Docker or Podman socket.

A page may name a local package file only inside the packages directory (created if missing):
put your .whl, .tar.gz, .zip or .tgz files there. Paths elsewhere, and links that lead out of it,
are refused ('loom exec --package ./file' takes any path).

Traces: an OTLP/HTTP receiver listens on 127.0.0.1 (port 4318 unless --otlp-port says otherwise):
point an agent's OpenTelemetry exporter at http://127.0.0.1:4318 and its traces appear in the Traces
view, beside every run's. A run started with a traceparent nests under that span. Traces are kept in
the history file for 7 days, up to 2,000,000 spans; 'loom traces' reads them.

Only this machine can connect, and only with the token printed here: anyone you give the address to
can run code in containers as you. The browser swaps the token for a cookie of its own (named after
the port) and drops it from the address bar; each start prints a new token.`,
};

export async function uiCommand(argv: readonly string[], io: Io): Promise<number> {
  const specs = toSpecs(UI_HELP.options);
  let port: number;
  let portGiven: boolean;
  let rendererDir: string;
  let packagesDir: string | undefined;
  let traces: TracesConfig;
  try {
    const { values, positionals } = parseWithPositionals(argv, specs);
    if (flag(values, 'help')) {
      io.stdout.write(renderHelp(UI_HELP));
      return 0;
    }
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const rawPort = stringOption(values, 'port');
    portGiven = rawPort !== undefined;
    port = rawPort === undefined ? DEFAULT_UI_PORT : parseInteger('port', rawPort);
    if (port < 0 || port > 65535) throw new UsageError(`--port must be between 0 and 65535, got ${port}`, '--port');
    const rawDir = stringOption(values, 'renderer');
    rendererDir = rawDir === undefined ? DEFAULT_RENDERER_DIR : resolve(rawDir);
    const rawPackages = stringOption(values, 'packages-dir');
    if (rawPackages === '') throw new UsageError('--packages-dir must name a directory', '--packages-dir');
    packagesDir = rawPackages === undefined ? undefined : resolve(rawPackages);
    try {
      traces = tracesConfigFrom(process.env, {
        port: stringOption(values, 'otlp-port'),
        collector: stringOption(values, 'collector'),
        collectorView: stringOption(values, 'collector-view'),
      });
    } catch (err) {
      if (err instanceof ValidationError) throw new UsageError(`${err.field} ${err.problem}`, err.field);
      throw err;
    }
  } catch (err) {
    if (err instanceof UsageError) return reportUsage(io, err, 'loom ui', false);
    throw err;
  }

  if (rendererDir === DEFAULT_RENDERER_DIR) {
    if (!(await ensureRenderer(io))) return EXIT.loomError;
  } else if (!existsSync(join(rendererDir, 'index.html'))) {
    note(io, `${rendererDir} has no index.html: point --renderer at a built renderer (npm run build makes out/renderer).`);
    return EXIT.loomError;
  }

  // Listening for Ctrl+C from here on: one during start-up stops cleanly once started, and one
  // right after the address appears (a script that read it) cannot kill us mid-way.
  const signal = listenForStop(io);
  const loomHome = process.env['LOOM_HOME'] || join(homedir(), '.loom');
  let service: LoomService;
  try {
    await mkdir(loomHome, { recursive: true });
    service = await createLoomService({ historyPath: join(loomHome, 'history.sqlite'), packagesDir: packagesDir ?? join(loomHome, 'packages'), traces });
  } catch (err) {
    signal.dispose();
    return reportLoomError(io, err, false);
  }

  let host: WebHost;
  try {
    host = await startHost(service, port, portGiven, rendererDir, io);
  } catch (err) {
    signal.dispose();
    await service.close();
    const inUse = (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
    return reportLoomError(io, inUse ? new Error(`port ${port} on 127.0.0.1 is already in use: pick another with --port (0 for any free one)`) : err, false);
  }

  // `loom exec` processes of this user hand their runs to this process (see api/handoff-host.ts).
  const handoff = await startHandoffHost({ executor: () => service.executor() }).catch((err: unknown) => {
    note(io, `warning: loom exec processes cannot hand their runs to this one: ${err instanceof Error ? err.message : String(err)}`);
    return null;
  });

  // The address alone on stdout, so that scripts can read it; everything else goes to stderr.
  io.stdout.write(`${host.url}\n`);
  note(io, `serving the Loom UI at ${host.url}\nopen it in a browser; press Ctrl+C to stop (removes this process's containers)`);
  const receiver = await service.traceReceiverStatus();
  if (receiver.listening) note(io, `receiving OpenTelemetry traces at ${receiver.url} (OTLP/HTTP, protobuf or JSON)`);
  else if (receiver.error) note(io, `${receiver.error} (--otlp-port N picks another, --otlp-port off turns it off)`);

  await signal.stopped;
  note(io, 'stopping: closing connections and removing containers...');
  await handoff?.close();
  await host.close();
  await service.close();
  return 0;
}

async function startHost(service: LoomService, port: number, portGiven: boolean, rendererDir: string, io: Io): Promise<WebHost> {
  try {
    return await startWebHost({ backend: service, port, rendererDir });
  } catch (err) {
    if (portGiven || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    note(io, `port ${port} is taken (another loom ui?): using a free port instead`);
    return startWebHost({ backend: service, port: 0, rendererDir });
  }
}

/**
 * Whether out/renderer is built, building it with the project's own Vite when it is missing (a
 * fresh clone). An installation without the dev dependencies cannot, and says what to do instead.
 * Also used by the bench's window flood.
 */
export async function ensureRenderer(io: Io): Promise<boolean> {
  if (existsSync(join(DEFAULT_RENDERER_DIR, 'index.html'))) return true;
  const vite = join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  const hint = "the renderer is not built (out/renderer/index.html is missing): run 'npm run build' first";
  if (!existsSync(vite)) {
    note(io, hint);
    return false;
  }
  note(io, 'out/renderer is missing: building the renderer (vite build -c vite.renderer.config.ts)...');
  const child = spawn(process.execPath, [vite, 'build', '-c', 'vite.renderer.config.ts', '--outDir', DEFAULT_RENDERER_DIR], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Vite's progress goes to our stderr: stdout is kept for the address.
  child.stdout.on('data', (chunk: Buffer) => io.stderr.write(chunk));
  child.stderr.on('data', (chunk: Buffer) => io.stderr.write(chunk));
  const code = await new Promise<number | null>((done) => {
    child.on('error', () => done(null));
    child.on('close', (status) => done(status));
  });
  if (code !== 0 || !existsSync(join(DEFAULT_RENDERER_DIR, 'index.html'))) {
    note(io, `building the renderer failed; ${hint}`);
    return false;
  }
  return true;
}
