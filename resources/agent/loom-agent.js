// Loom's in-container agent (Node). The same protocol as loom_agent.py, for images that have
// node but no python3: it carries span records out of the container on a channel of its own.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const MAX_LINE = 1 << 20;
const POLL_MS = 20;
const watches = new Map();
let pending = '';

function send(text) {
  process.stdout.write(text);
}

class Watch {
  constructor(id, path) {
    this.id = id;
    this.path = path;
    this.fd = null;
    this.partial = Buffer.alloc(0);
    this.skipping = false;
    this.oversized = 0;
  }

  drain(final) {
    if (this.fd === null) {
      try {
        // The program owns /tmp: no following a symlink, no blocking on a FIFO, and nothing
        // but a regular file is read (not /dev/zero, say).
        const fd = fs.openSync(this.path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
        if (!fs.fstatSync(fd).isFile()) {
          fs.closeSync(fd);
          return;
        }
        this.fd = fd;
      } catch {
        return;
      }
    }
    const chunks = [];
    const buf = Buffer.allocUnsafe(1 << 16);
    for (;;) {
      const n = fs.readSync(this.fd, buf, 0, buf.length, null);
      if (n === 0) break;
      this.feed(buf.subarray(0, n), chunks);
    }
    if (final && this.partial.length && !this.skipping) chunks.push(`S ${this.id} ${this.partial.toString('utf8')}\n`);
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
      if (line.length) chunks.push(`S ${this.id} ${line.toString('utf8')}\n`);
    }
    this.partial = Buffer.from(buf);
    if (this.partial.length > MAX_LINE) {
      this.partial = Buffer.alloc(0);
      this.skipping = true;
      this.oversized++;
    }
  }

  close() {
    if (this.oversized) send(`M ${this.id} ${this.oversized}\n`);
    if (this.fd !== null) fs.closeSync(this.fd);
    try {
      fs.unlinkSync(this.path);
    } catch {
      // already gone
    }
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
  if (cmd.op === 'watch') {
    watches.set(id, new Watch(id, String(cmd.path ?? '')));
  } else if (cmd.op === 'flush') {
    const watch = watches.get(id);
    watches.delete(id);
    if (watch) {
      watch.drain(true);
      watch.close();
    }
    send(`F ${id}\n`);
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
}, POLL_MS);
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
send(`R ${process.pid} ${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]} ${protectedNow ? 1 : 0}\n`);
