// Loom's in-container agent (Node), for images that have node but no python3: it carries span
// records out of the container on a channel of its own, as loom_agent.py does. Its line protocol
// is described once, in electron/main/engine/runner/protocol.json (the "agent" part); the runner's
// loom-protocol.js is generated from it, and the span file is read as the runner reads it
// (loom-span-file.js).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
// The runner's directory holds the modules the runner and the agent share.
const { AGENT_MAX_LINE, AgentOp, AgentRecord, SPAN_POLL_MS } = require('../runner/loom-protocol.js');
const { SpanFile } = require('../runner/loom-span-file.js');

const watches = new Map();
let pending = '';

function send(text) {
  process.stdout.write(text);
}

class Watch {
  constructor(id, path) {
    this.id = id;
    this.file = new SpanFile(path);
    this.partial = Buffer.alloc(0);
    this.skipping = false;
    this.oversized = 0;
  }

  drain(final) {
    const chunks = [];
    this.file.read((data) => this.feed(data, chunks));
    if (final && this.partial.length && !this.skipping) chunks.push(`${AgentRecord.SPAN} ${this.id} ${this.partial.toString('utf8')}\n`);
    if (chunks.length) send(chunks.join(''));
  }

  feed(data, chunks) {
    let buf = Buffer.concat([this.partial, data]);
    let nl;
    while ((nl = buf.indexOf(10)) !== -1) {
      const line = buf.subarray(0, nl);
      buf = buf.subarray(nl + 1);
      if (this.skipping) {
        this.skipping = false;
        continue;
      }
      if (line.length) chunks.push(`${AgentRecord.SPAN} ${this.id} ${line.toString('utf8')}\n`);
    }
    this.partial = Buffer.from(buf);
    if (this.partial.length > AGENT_MAX_LINE) {
      this.partial = Buffer.alloc(0);
      this.skipping = true;
      this.oversized++;
    }
  }

  close() {
    if (this.oversized) send(`${AgentRecord.OVERSIZED} ${this.id} ${this.oversized}\n`);
    this.file.close();
  }
}

function command(line) {
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch {
    return;
  }
  const id = String(cmd.id ?? '');
  if (cmd.op === AgentOp.WATCH) {
    watches.set(id, new Watch(id, String(cmd.path ?? '')));
  } else if (cmd.op === AgentOp.FLUSH) {
    const watch = watches.get(id);
    watches.delete(id);
    if (watch) {
      watch.drain(true);
      watch.close();
    }
    send(`${AgentRecord.FLUSHED} ${id}\n`);
  }
}

process.stdin.on('data', (data) => {
  const lines = (pending + data.toString('utf8')).split('\n');
  pending = lines.pop();
  for (const line of lines) command(line);
});
process.stdin.on('end', () => process.exit(0));
process.stdout.on('error', () => process.exit(0));
setInterval(() => {
  for (const watch of watches.values()) watch.drain(false);
}, SPAN_POLL_MS);
/**
 * Makes this process undumpable (resources/native/nodump.c): it runs as the programs' user, and a
 * dumpable process of that user can be read and written by any of them. True when it is.
 */
function undumpable() {
  const arch = { x64: 'x86_64', arm64: 'aarch64' }[process.arch] ?? process.arch;
  try {
    process.dlopen({ exports: {} }, path.join(__dirname, '..', 'native', 'bin', `nodump-${arch}.so`));
  } catch {
    // "Module did not self-register": expected, its constructor has run.
  }
  try {
    return fs.statSync('/proc/self/stat').uid !== process.getuid();
  } catch {
    return false;
  }
}

const protectedNow = undumpable();
// The start time (clock ticks) from /proc/self/stat, whose fields start after the name's last ')'.
const stat = fs.readFileSync('/proc/self/stat', 'latin1');
send(`${AgentRecord.READY} ${process.pid} ${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]} ${protectedNow ? 1 : 0}\n`);
