// Following the file a program's trace library appends span records to, from outside the program:
// one implementation for loom-runner.js and loom-agent.js (CommonJS, built-in modules only).
'use strict';

const fs = require('fs');
const { MAX_CHUNK } = require('./loom-protocol.js');

/**
 * The program owns the file's directory (/tmp), so the file is opened without following a symlink
 * or blocking on a FIFO, and nothing but a regular file is read (not /dev/zero, say). Until there is
 * such a file, there is nothing to read: it is looked for again at the next read.
 */
class SpanFile {
  constructor(path) {
    this.path = path;
    this.fd = null;
    this.buf = null;
  }

  /**
   * Calls onChunk with what was appended since the last read, at most MAX_CHUNK bytes at a time.
   * A chunk is valid until onChunk returns (its memory is reused).
   */
  read(onChunk) {
    if (this.fd === null) this.fd = openRegular(this.path);
    if (this.fd === null) return;
    this.buf ??= Buffer.allocUnsafe(MAX_CHUNK);
    for (;;) {
      let n;
      try {
        n = fs.readSync(this.fd, this.buf, 0, MAX_CHUNK, null);
      } catch {
        return;
      }
      if (n === 0) return;
      onChunk(this.buf.subarray(0, n));
    }
  }

  /** Stops following the file, and removes it. */
  close() {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
    try {
      fs.unlinkSync(this.path);
    } catch {
      // never written
    }
  }
}

function openRegular(path) {
  let fd;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
  } catch {
    return null; // not written yet, or not a file to follow
  }
  if (fs.fstatSync(fd).isFile()) return fd;
  fs.closeSync(fd);
  return null;
}

module.exports = { SpanFile };
