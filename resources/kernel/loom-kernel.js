'use strict';
// Loom's Node kernel: the long-lived interpreter of a session, in which cells run one after
// another with REPL semantics (top-level `await`; a final expression's value is shown). It
// speaks the same protocol as loom_kernel.py (see there and engine/session/kernel-protocol.ts):
//
//   node --expose-internals loom-kernel.js --serve SOCKET    serve stdio, then SOCKET
//   node loom-kernel.js --connect SOCKET                     relay stdio to a running kernel
//
// --expose-internals gives the REPL's own top-level-await rewrite (internal/repl/await), so a
// cell behaves as it would in `node`'s REPL. A cell runs in this process's global context:
// declarations persist as they do in the REPL. An interrupt is a SIGINT sent from outside.
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const util = require('node:util');
const vm = require('node:vm');
const { createRequire } = require('node:module');
// Beside the trace library, on NODE_PATH in every sandbox.
const loomDisplay = require('loom-display.js');

const KERNEL_DIR = '/tmp/.loom-kernel';
const SPAN_FILE = `${KERNEL_DIR}/spans.jsonl`;

let processTopLevelAwait = () => null;
try {
  ({ processTopLevelAwait } = require('internal/repl/await'));
} catch {
  // Started without --expose-internals: cells without top-level await still work.
}

/** A stack without the kernel's own frames: the cell's are what the user wrote. */
function cellFrames(stack) {
  const lines = String(stack).split('\n');
  const first = lines.findIndex((l) => /^\s+at /.test(l) && !/\bcell:\d/.test(l));
  return (first < 0 ? lines : lines.slice(0, first)).join('\n');
}

class Kernel {
  constructor() {
    this.count = 0;
    this.channel = null;
    this.cell = null;
    this.spanOffset = 0;
    this.pending = null; // rejects the running cell's wait on an interrupt or a deadline
    const send = (name) => (chunk, encoding, cb) => {
      const text = Buffer.isBuffer(chunk) || chunk instanceof Uint8Array ? Buffer.from(chunk).toString('utf8') : String(chunk);
      if (this.channel) this.channel.send({ t: 'stream', id: this.cell, name, text });
      const done = typeof encoding === 'function' ? encoding : cb;
      if (done) process.nextTick(done);
      return true;
    };
    this.rawWrite = process.stdout.write.bind(process.stdout);
    process.stdout.write = send('stdout');
    process.stderr.write = send('stderr');
    globalThis.display = (value, mime) => this.display(value, mime);
    loomDisplay.setSink((value, mime) => this.display(value, mime));
    globalThis.require = createRequire('/tmp/');
    process.on('uncaughtException', (err) => process.stderr.write(`Uncaught ${util.inspect(err)}\n`));
    process.on('unhandledRejection', (err) => process.stderr.write(`Unhandled rejection: ${util.inspect(err)}\n`));
    process.on('SIGINT', () => this.pending?.('interrupted'));
    process.env.LOOM_TRACE_FILE = SPAN_FILE;
  }

  display(value, mime) {
    if (this.channel) this.channel.send({ t: 'display', id: this.cell, data: loomDisplay.mimeBundle(value, mime) });
  }

  async execute(msg) {
    this.cell = msg.id;
    this.count += 1;
    const outDir = msg.outputDir || '/tmp/outputs';
    try {
      fs.mkdirSync(outDir, { recursive: true });
    } catch {
      // Not writable: the cell says so when it writes there.
    }
    const before = snapshot(outDir);
    this.setTraceContext(msg);
    const timeoutMs = Number(msg.timeoutMs) || 0;
    let status = 'ok';
    let error = null;
    let timer;
    try {
      const code = String(msg.code ?? '');
      const rewritten = processTopLevelAwait(code);
      const script = new vm.Script(rewritten ?? code, { filename: 'cell' });
      const runOpts = { breakOnSigint: true, ...(timeoutMs > 0 ? { timeout: timeoutMs } : {}) };
      let value = script.runInThisContext(runOpts);
      if (rewritten !== null) {
        const stopped = new Promise((_, reject) => {
          this.pending = (why) => reject(Object.assign(new Error(why), { loomStop: why }));
          if (timeoutMs > 0) timer = setTimeout(() => this.pending('timeout'), timeoutMs);
        });
        const wrapped = await Promise.race([value, stopped]);
        value = wrapped?.value;
      } else if (value instanceof Promise) {
        // A final expression that is a promise is awaited, as the REPL does.
        value = await value;
      }
      if (value !== undefined) this.display(value);
    } catch (err) {
      const stop = err?.loomStop ?? (err?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT' ? 'timeout' : err?.code === 'ERR_SCRIPT_EXECUTION_INTERRUPTED' ? 'interrupted' : null);
      if (stop === 'timeout') {
        status = 'timeout';
        error = { ename: 'TimeoutError', evalue: `the cell ran past its ${timeoutMs} ms deadline`, traceback: '' };
      } else if (stop === 'interrupted') {
        status = 'interrupted';
        error = { ename: 'Interrupted', evalue: 'the cell was interrupted', traceback: '' };
      } else {
        status = 'error';
        error = { ename: err?.name ?? 'Error', evalue: err?.message ?? String(err), traceback: err?.stack ? `${cellFrames(err.stack)}\n` : `${util.inspect(err)}\n` };
        process.stderr.write(`Uncaught ${error.traceback}`);
      }
    } finally {
      clearTimeout(timer);
      this.pending = null;
    }
    this.sendSpans();
    this.channel?.send({ t: 'done', id: this.cell, status, count: this.count, error, artifacts: changed(outDir, before) });
    this.cell = null;
  }

  setTraceContext(msg) {
    const traceId = msg.traceId || '';
    const spanId = msg.spanId || '';
    Object.assign(process.env, { LOOM_TRACE_ID: traceId, LOOM_SPAN_ID: spanId, TRACEPARENT: `00-${traceId}-${spanId}-01` });
    for (const [file, mod] of Object.entries(require.cache)) {
      if (file.endsWith('loom-trace.js') && mod?.exports?.tracer) Object.assign(mod.exports.tracer, { traceId, parentSpanId: spanId });
    }
  }

  sendSpans() {
    let data;
    try {
      data = fs.readFileSync(SPAN_FILE);
    } catch {
      return;
    }
    const rest = data.subarray(this.spanOffset);
    const end = rest.lastIndexOf(0x0a) + 1;
    this.spanOffset += end;
    for (const line of rest.subarray(0, end).toString('utf8').split('\n')) {
      if (line.trim()) this.channel?.send({ t: 'span', id: this.cell, line });
    }
  }

  /** Serves one connection until it ends; cells run one at a time. */
  serve(channel) {
    return new Promise((resolve) => {
      this.channel = channel;
      channel.send({ t: 'ready', pid: process.pid, language: 'node', count: this.count });
      let queue = Promise.resolve();
      channel.onMessage = (msg) => {
        if (msg.op === 'exec') queue = queue.then(() => this.execute(msg));
        else if (msg.op === 'ping') channel.send({ t: 'pong' });
      };
      channel.onEnd = () => queue.then(() => {
        this.channel = null;
        resolve();
      });
    });
  }
}

/** JSON lines over a readable and a write function. */
function channelOf(readable, write) {
  const channel = { onMessage: () => undefined, onEnd: () => undefined, send: (msg) => write(`${JSON.stringify(msg)}\n`) };
  let buf = '';
  readable.setEncoding('utf8');
  readable.on('data', (chunk) => {
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      let msg;
      try {
        msg = JSON.parse(line);
      } catch {
        msg = { op: 'invalid' };
      }
      channel.onMessage(msg);
    }
  });
  readable.on('end', () => channel.onEnd());
  readable.on('close', () => channel.onEnd());
  return channel;
}

function snapshot(root) {
  const files = new Map();
  const walk = (dir) => {
    let names;
    try {
      names = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const d of names) {
      const full = path.join(dir, d.name);
      if (d.isDirectory()) walk(full);
      else if (d.isFile()) {
        try {
          const st = fs.statSync(full, { bigint: true });
          files.set(full, `${st.size}:${st.mtimeNs}`);
        } catch {
          // Removed meanwhile.
        }
      }
    }
  };
  walk(root);
  return files;
}

const MIME = { '.png': 'image/png', '.svg': 'image/svg+xml', '.html': 'text/html', '.json': 'application/json', '.csv': 'text/csv', '.txt': 'text/plain', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.pdf': 'application/pdf' };

function changed(root, before) {
  const out = [];
  for (const [file, stamp] of [...snapshot(root)].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (before.get(file) === stamp) continue;
    out.push({ path: path.relative('/tmp', file), size: Number(stamp.split(':')[0]), mime: MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream' });
  }
  return out;
}

async function serve(sockPath) {
  fs.mkdirSync(KERNEL_DIR, { recursive: true, mode: 0o700 });
  const kernel = new Kernel();
  try {
    fs.unlinkSync(sockPath);
  } catch {
    // Not there: the first kernel of this session.
  }
  const connections = [];
  let wake = null;
  const server = net.createServer((socket) => {
    connections.push(socket);
    wake?.();
  });
  await new Promise((resolve) => server.listen(sockPath, resolve));
  await kernel.serve(channelOf(process.stdin, kernel.rawWrite));
  for (;;) {
    if (!connections.length) await new Promise((resolve) => (wake = resolve));
    const socket = connections.shift();
    await kernel.serve(channelOf(socket, (line) => socket.write(line)));
    socket.destroy();
  }
}

function relay(sockPath) {
  let tries = 0;
  const attempt = () => {
    const socket = net.connect(sockPath);
    socket.once('connect', () => {
      process.stdin.pipe(socket);
      socket.pipe(process.stdout);
      socket.on('close', () => process.exit(0));
      process.stdin.on('end', () => socket.end());
    });
    socket.once('error', () => {
      if (++tries >= 100) {
        process.stderr.write(`loom kernel: no kernel listens on ${sockPath}\n`);
        process.exit(3);
      }
      setTimeout(attempt, 50);
    });
  };
  attempt();
}

const [mode, sock] = process.argv.slice(2);
if (mode === '--serve' && sock) void serve(sock);
else if (mode === '--connect' && sock) relay(sock);
else {
  process.stderr.write('usage: loom-kernel.js --serve SOCKET | --connect SOCKET\n');
  process.exit(2);
}
