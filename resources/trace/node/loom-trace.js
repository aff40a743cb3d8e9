// In-container trace library for Loom Sandbox (Node 18+, CommonJS, built-in modules only).
//
//   const { tracer, traceSpan, traceSpanSync } = require('loom-trace.js');
//   await traceSpan('load', { rows: 5 }, async (span) => { span.setAttribute('source', 'db'); });
//   const n = traceSpanSync('sum', () => 1 + 2);
//
// The host passes the trace context in the environment: TRACEPARENT (W3C, wins when it is
// valid), else LOOM_TRACE_ID / LOOM_SPAN_ID; with neither, a random trace id and no parent.
// Each span, when it ends, is appended to LOOM_TRACE_FILE as one JSON line with one synchronous
// write on an O_APPEND fd, so records survive process.exit and uncaught exceptions. Tracing never
// throws into user code and never prints: with no usable LOOM_TRACE_FILE, spans are not recorded.
// Nesting follows AsyncLocalStorage, so concurrent async work each sees its own current span.
'use strict';

const { AsyncLocalStorage } = require('async_hooks');
const { randomBytes } = require('crypto');
const fs = require('fs');

const TRACEPARENT_RE = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const TRACE_ID_RE = /^[0-9a-f]{32}$/;
const SPAN_ID_RE = /^[0-9a-f]{16}$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);
const STATUSES = new Set(['ok', 'error', 'unset']);

function randomHex(nbytes) {
  for (;;) {
    const value = randomBytes(nbytes).toString('hex');
    if (/[^0]/.test(value)) return value; // all-zero ids are invalid in W3C trace context
  }
}

/** [traceId, parentSpanId] from TRACEPARENT, else LOOM_TRACE_ID/LOOM_SPAN_ID, else random. */
function contextFromEnv(env) {
  const m = TRACEPARENT_RE.exec(String(env.TRACEPARENT || '').trim().toLowerCase());
  if (m && m[1] !== 'ff' && (m[1] !== '00' || m[5] === undefined) && m[2] !== ZERO_TRACE_ID && m[3] !== ZERO_SPAN_ID) {
    return [m[2], m[3]];
  }
  const traceId = String(env.LOOM_TRACE_ID || '').trim().toLowerCase();
  if (TRACE_ID_RE.test(traceId) && traceId !== ZERO_TRACE_ID) {
    const spanId = String(env.LOOM_SPAN_ID || '').trim().toLowerCase();
    return [traceId, SPAN_ID_RE.test(spanId) && spanId !== ZERO_SPAN_ID ? spanId : ''];
  }
  return [randomHex(16), ''];
}

// Wall clock in ns with microsecond precision: performance.now() is monotonic, so nested spans
// order correctly (Date.now()'s milliseconds are too coarse for that).
const ORIGIN_US = BigInt(Math.round(performance.timeOrigin * 1000));
function nowNs() {
  return (ORIGIN_US + BigInt(Math.round(performance.now() * 1000))) * 1000n;
}

function safeString(value) {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value); // e.g. Object.create(null)
  }
}

function cleanScalar(value) {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : String(value); // NaN/Infinity are not JSON
    default:
      return safeString(value); // bigint, symbol, object, null, undefined, function
  }
}

/** Attribute values are strings, numbers, booleans or arrays of them; anything else is String()ed. */
function cleanValue(value) {
  return Array.isArray(value) ? value.map(cleanScalar) : cleanScalar(value);
}

/** The span file: opened lazily once, one fs.writeSync per record. */
const sink = {
  path: process.env.LOOM_TRACE_FILE || '',
  fd: -1,
  failed: !process.env.LOOM_TRACE_FILE,
  write(line) {
    if (this.failed) return;
    try {
      if (this.fd < 0) this.fd = fs.openSync(this.path, 'a', 0o600);
      fs.writeSync(this.fd, line);
    } catch {
      // Unwritable path, full disk, fd closed by the program: stop trying, stay silent.
      this.failed = true;
    }
  },
};

const storage = new AsyncLocalStorage();
const openSpans = new Set(); // spans still open when the process exits are recorded as "unset"

class Span {
  constructor(name, attrs, parent) {
    this.traceId = tracer.traceId;
    this.spanId = randomHex(8);
    this.parentSpanId = parent ? parent.spanId : tracer.parentSpanId;
    this.name = typeof name === 'string' ? name : safeString(name);
    this.attributes = {};
    if (attrs && typeof attrs === 'object') {
      try {
        for (const key of Object.keys(attrs)) this.attributes[key] = cleanValue(attrs[key]);
      } catch {
        // a throwing getter must not break the user's program
      }
    }
    this.startTimeUnixNano = nowNs();
    this.endTimeUnixNano = null;
    this.status = 'unset';
    this.statusMessage = '';
  }

  setAttribute(key, value) {
    this.attributes[safeString(key)] = cleanValue(value);
    return this;
  }

  setAttributes(attrs) {
    for (const key of Object.keys(attrs || {})) this.setAttribute(key, attrs[key]);
    return this;
  }

  setStatus(status, message = '') {
    const s = safeString(status).toLowerCase();
    if (STATUSES.has(s)) {
      this.status = s;
      this.statusMessage = message ? safeString(message) : '';
    }
    return this;
  }

  recordException(err) {
    const { type, message } = describeError(err);
    this.attributes['exception.type'] = type;
    this.attributes['exception.message'] = message;
    this.status = 'error';
    this.statusMessage = `${type}: ${message}`;
    return this;
  }

  /** Ends the span (once) and appends its record. */
  end(err, failed = false) {
    if (this.endTimeUnixNano !== null) return;
    try {
      const end = nowNs();
      this.endTimeUnixNano = end > this.startTimeUnixNano ? end : this.startTimeUnixNano;
      openSpans.delete(this);
      if (failed) this.recordException(err);
      else if (this.status === 'unset') this.status = 'ok';
      sink.write(this.toJSONLine());
    } catch {
      // never throw into user code
    }
  }

  toJSONLine() {
    return (
      JSON.stringify({
        traceId: this.traceId,
        spanId: this.spanId,
        parentSpanId: this.parentSpanId,
        name: this.name,
        startTimeUnixNano: this.startTimeUnixNano.toString(),
        endTimeUnixNano: (this.endTimeUnixNano ?? this.startTimeUnixNano).toString(),
        attributes: this.attributes,
        status: this.status,
        statusMessage: this.statusMessage,
      }) + '\n'
    );
  }
}

function describeError(err) {
  let type;
  let message;
  try {
    if (err !== null && typeof err === 'object') {
      type = typeof err.name === 'string' && err.name ? err.name : (err.constructor && err.constructor.name) || 'Object';
      message = typeof err.message === 'string' ? err.message : safeString(err);
    } else {
      type = typeof err; // `throw 'text'`, `throw 42`, `throw undefined`
      message = safeString(err);
    }
  } catch {
    type = type || 'Error';
    message = message || '';
  }
  return { type, message };
}

function isThenable(value) {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof value.then === 'function';
}

function startSpan(name, attrs) {
  const span = new Span(name, attrs, storage.getStore());
  openSpans.add(span);
  return span;
}

function endWhenSettled(span, thenable) {
  return Promise.resolve(thenable).then(
    (value) => {
      span.end();
      return value;
    },
    (err) => {
      span.end(err, true);
      throw err; // the same rejection reason, unchanged
    },
  );
}

function normalizeArgs(attrs, fn) {
  if (typeof attrs === 'function' && fn === undefined) return [undefined, attrs];
  if (typeof fn !== 'function') throw new TypeError('loom-trace: the last argument must be a function');
  return [attrs, fn];
}

/**
 * Runs fn(span) inside a new span and returns a Promise of its result. fn may be sync or async;
 * the span ends when the result settles. `traceSpan(name, fn)` works too.
 */
function traceSpan(name, attrs, fn) {
  [attrs, fn] = normalizeArgs(attrs, fn);
  const span = startSpan(name, attrs);
  let result;
  try {
    result = storage.run(span, fn, span);
  } catch (err) {
    span.end(err, true);
    return Promise.reject(err);
  }
  if (isThenable(result)) return endWhenSettled(span, result);
  span.end();
  return Promise.resolve(result);
}

/**
 * Runs fn(span) synchronously inside a new span and returns its result (a throw ends the span as
 * an error and is rethrown). If fn returns a thenable, the span ends when it settles and a
 * promise of the same outcome is returned.
 */
function traceSpanSync(name, attrs, fn) {
  [attrs, fn] = normalizeArgs(attrs, fn);
  const span = startSpan(name, attrs);
  let result;
  try {
    result = storage.run(span, fn, span);
  } catch (err) {
    span.end(err, true);
    throw err;
  }
  if (isThenable(result)) return endWhenSettled(span, result);
  span.end();
  return result;
}

const [traceId, parentSpanId] = contextFromEnv(process.env);

const tracer = {
  /** The trace id (the host's, from the environment). */
  traceId,
  /** The span the host opened for this run (`docker.execute`), or '' when there is none. */
  parentSpanId,
  /** The innermost open span in this async context, or null. */
  currentSpan() {
    return storage.getStore() || null;
  },
  /** A W3C traceparent for the current position, to hand to a subprocess or a request. */
  traceparent() {
    const span = storage.getStore();
    return `00-${traceId}-${span ? span.spanId : parentSpanId || randomHex(8)}-01`;
  },
};

// A span still open at exit (process.exit inside it, a promise that never settles) is recorded
// with status "unset" rather than lost. 'exit' listeners run synchronously, which is all we need.
process.on('exit', () => {
  for (const span of openSpans) {
    try {
      span.endTimeUnixNano = nowNs();
      if (span.endTimeUnixNano < span.startTimeUnixNano) span.endTimeUnixNano = span.startTimeUnixNano;
      span.statusMessage = 'span still open at process exit';
      sink.write(span.toJSONLine());
    } catch {
      // never throw from an exit handler
    }
  }
  openSpans.clear();
});

module.exports = { tracer, traceSpan, traceSpanSync, Span };
