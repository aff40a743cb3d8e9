'use strict';
// Rich outputs for Loom: display(value[, mime]) as a MIME bundle (text/plain, image/png,
// image/svg+xml, text/html, application/json), in the order produced. A Buffer holding a PNG, or
// a data:image/... URL, is an image; a plain object or array is JSON; display(html, 'text/html')
// names the type. In a session the kernel provides display() itself; in a run:
//
//   const { display } = require('loom-display.js');
//
// where each bundle is appended to the run's LOOM_TRACE_FILE as a {"loom_display": ...} line,
// which Loom takes out of the trace into ExecuteResponse.outputs.
const fs = require('node:fs');
const util = require('node:util');

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The MIME bundle of a value, by the same rules as loom_display.py. */
function mimeBundle(value, mime) {
  if (mime) {
    const data = Buffer.isBuffer(value) ? (mime.startsWith('image/') && mime !== 'image/svg+xml' ? value.toString('base64') : value.toString('utf8')) : typeof value === 'string' ? value : JSON.stringify(value);
    return { [mime]: data, 'text/plain': typeof value === 'string' && !mime.startsWith('image/') ? value : `<${mime}>` };
  }
  const bundle = {};
  if (Buffer.isBuffer(value) && value.subarray(0, 8).equals(PNG_MAGIC)) bundle['image/png'] = value.toString('base64');
  if (typeof value === 'string') {
    const m = /^data:(image\/(?:png|svg\+xml));base64,(.*)$/s.exec(value);
    if (m) bundle[m[1]] = m[1] === 'image/svg+xml' ? Buffer.from(m[2], 'base64').toString('utf8') : m[2];
    else if (/^\s*<svg[\s>]/.test(value)) bundle['image/svg+xml'] = value;
  }
  if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    if (typeof value._toMimeBundle === 'function') Object.assign(bundle, value._toMimeBundle());
    else {
      const proto = Object.getPrototypeOf(value);
      if (Array.isArray(value) || proto === Object.prototype || proto === null) {
        try {
          bundle['application/json'] = JSON.stringify(value);
        } catch {
          // Circular or a BigInt: text/plain only.
        }
      }
    }
  }
  bundle['text/plain'] = typeof value === 'string' ? value : util.inspect(value, { depth: 4, maxArrayLength: 200 });
  return bundle;
}

/** Set by a session's kernel, which shows outputs itself. */
let sink = null;

function display(value, mime) {
  if (sink) return sink(value, mime);
  const path = process.env.LOOM_TRACE_FILE;
  if (!path) return undefined;
  try {
    fs.appendFileSync(path, `${JSON.stringify({ loom_display: mimeBundle(value, mime) })}\n`, { mode: 0o600 });
  } catch {
    // An unwritable trace file: the output is lost, the program goes on (as with spans).
  }
  return undefined;
}

module.exports = { display, mimeBundle, setSink: (fn) => (sink = fn) };
