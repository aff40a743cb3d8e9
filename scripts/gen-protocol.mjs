#!/usr/bin/env node
// Generates the constants of the runner and agent protocols for each language that speaks them,
// from their one source, electron/main/engine/runner/protocol.json:
//   electron/main/engine/runner/protocol.gen.ts   the host (TypeScript)
//   resources/runner/loom_protocol.py             the Python runner and agent (3.8+, stdlib only)
//   resources/runner/loom-protocol.js             the Node runner and agent (CommonJS)
// `node scripts/gen-protocol.mjs` writes them; `--check` only compares (scripts/check-generated.mjs
// runs that part for `npm run gen:check`).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const SOURCE = 'electron/main/engine/runner/protocol.json';
const WIDTH = 100;

// -- reading the source ------------------------------------------------------------------------

function fail(where, problem) {
  throw new Error(`${SOURCE}: ${where}: ${problem}`);
}

const isText = (v) => typeof v === 'string' && v.trim() !== '';

function text(obj, key, where) {
  if (!isText(obj[key])) fail(`${where}.${key}`, 'must be a non-empty string');
  return obj[key];
}

function list(obj, key, where) {
  if (!Array.isArray(obj[key]) || obj[key].length === 0) fail(`${where}.${key}`, 'must be a non-empty array');
  return obj[key];
}

function unique(items, key, where) {
  const seen = new Set();
  items.forEach((item, i) => {
    if (seen.has(item[key])) fail(`${where}[${i}].${key}`, `${JSON.stringify(item[key])} appears twice`);
    seen.add(item[key]);
  });
}

/** The source, checked: a mistake in it is named by its place, not found in the generated code. */
export function readSpec(rootDir = root) {
  const spec = JSON.parse(readFileSync(join(rootDir, SOURCE), 'utf8'));
  list(spec, 'doc', '$').forEach((_, i) => text(spec.doc, i, '$.doc'));
  list(spec, 'constants', '$').forEach((c, i) => {
    const where = `constants[${i}]`;
    if (!/^[A-Z][A-Z0-9_]*$/.test(text(c, 'name', where))) fail(`${where}.name`, 'must be UPPER_SNAKE_CASE');
    if (!Number.isSafeInteger(c.value) || c.value < 0) fail(`${where}.value`, 'must be a non-negative integer');
    text(c, 'doc', where);
  });
  unique(spec.constants, 'name', 'constants');
  list(spec, 'frames', '$').forEach((f, i) => {
    const where = `frames[${i}]`;
    if (!/^[A-Z][A-Z_]*$/.test(text(f, 'name', where))) fail(`${where}.name`, 'must be UPPER_SNAKE_CASE');
    if (f.from !== 'host' && f.from !== 'runner') fail(`${where}.from`, 'must be "host" or "runner"');
    // The runner's frames have the high bit set: a frame read the wrong way round is told at once.
    const [lo, hi] = f.from === 'host' ? [0x01, 0x7f] : [0x80, 0xff];
    if (!Number.isInteger(f.type) || f.type < lo || f.type > hi) fail(`${where}.type`, `must be an integer in ${lo}..${hi} for a frame from the ${f.from}`);
    text(f, 'payload', where);
    text(f, 'doc', where);
  });
  unique(spec.frames, 'name', 'frames');
  unique(spec.frames, 'type', 'frames');
  const frameNames = new Set(spec.frames.map((f) => f.name));
  list(spec, 'payloads', '$').forEach((p, i) => {
    const where = `payloads[${i}]`;
    if (!/^[A-Z][A-Za-z]*$/.test(text(p, 'name', where))) fail(`${where}.name`, 'must be PascalCase');
    if (!frameNames.has(text(p, 'frame', where))) fail(`${where}.frame`, `names no frame (${JSON.stringify(p.frame)})`);
    list(p, 'fields', where).forEach((field, j) => {
      const at = `${where}.fields[${j}]`;
      if (!/^[a-z][A-Za-z]*$/.test(text(field, 'name', at))) fail(`${at}.name`, 'must be camelCase');
      text(field, 'type', at);
      text(field, 'doc', at);
      if (field.optional !== undefined && typeof field.optional !== 'boolean') fail(`${at}.optional`, 'must be a boolean');
    });
    unique(p.fields, 'name', `${where}.fields`);
  });
  unique(spec.payloads, 'name', 'payloads');
  list(spec, 'errorCodes', '$').forEach((e, i) => {
    if (!/^[a-z][a-z_]*$/.test(text(e, 'name', `errorCodes[${i}]`))) fail(`errorCodes[${i}].name`, 'must be snake_case');
    text(e, 'doc', `errorCodes[${i}]`);
  });
  unique(spec.errorCodes, 'name', 'errorCodes');
  const agent = spec.agent;
  if (typeof agent !== 'object' || agent === null) fail('agent', 'must be an object');
  list(agent, 'doc', 'agent').forEach((_, i) => text(agent.doc, i, 'agent.doc'));
  list(agent, 'commands', 'agent').forEach((c, i) => {
    for (const key of ['name', 'op', 'fields', 'doc']) text(c, key, `agent.commands[${i}]`);
  });
  list(agent, 'records', 'agent').forEach((r, i) => {
    for (const key of ['name', 'tag', 'format', 'doc']) text(r, key, `agent.records[${i}]`);
    if (!/^[A-Z]$/.test(r.tag)) fail(`agent.records[${i}].tag`, 'must be one capital letter');
  });
  for (const key of ['name', 'op']) unique(agent.commands, key, 'agent.commands');
  for (const key of ['name', 'tag']) unique(agent.records, key, 'agent.records');
  return spec;
}

// -- rendering ---------------------------------------------------------------------------------

/** `words` wrapped to WIDTH, each line started by `first` (the first) or `rest`. */
function wrap(words, first, rest = first) {
  const lines = [];
  let line = first;
  let empty = true;
  for (const word of words.split(/\s+/).filter(Boolean)) {
    if (!empty && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = rest + word;
    } else {
      line += (empty ? '' : ' ') + word;
    }
    empty = false;
  }
  lines.push(line);
  return lines;
}

/** Paragraphs as comment lines; a line of a paragraph that starts with two spaces stays as it is. */
const paragraphs = (docs, prefix) =>
  docs.flatMap((p, i) => [
    ...(i ? [prefix.trimEnd()] : []),
    ...p.split('\n').flatMap((part) => (part.startsWith('  ') ? [prefix + part] : wrap(part, prefix))),
  ]);
/** A JSDoc comment: on one line when it fits. */
function jsdoc(doc, indent = '') {
  const one = `${indent}/** ${doc} */`;
  return one.length <= WIDTH ? [one] : [`${indent}/**`, ...wrap(doc, `${indent} * `), `${indent} */`];
}
const hex = (n) => `0x${n.toString(16).padStart(2, '0')}`;
/** 65536 as 64 * 1024: sizes read as sizes. */
function number(n) {
  for (const [unit, name] of [[1024 * 1024, '1024 * 1024'], [1024, '1024']]) {
    if (n === unit) return name;
    if (n > unit && n % unit === 0) return `${n / unit} * ${name}`;
  }
  return String(n);
}
const sideDoc = { host: 'From the host, on the runner\'s stdin', runner: 'From the runner, on its stdout' };
const frameDoc = (f) => `${f.payload}. ${f.doc}`;
const header = (comment, forWhom) =>
  wrap(`Generated by scripts/gen-protocol.mjs from ${SOURCE}: do not edit (npm run gen writes it, npm run gen:check compares). ${forWhom}`, `${comment} `);

function typescript(spec) {
  const out = [...header('//', "The host's constants and types."), '//', ...paragraphs(spec.doc, '// '), ''];
  for (const c of spec.constants) out.push(...jsdoc(c.doc), `export const ${c.name} = ${number(c.value)};`);
  out.push('', '/** The frame types. */', 'export const FrameType = {');
  for (const side of ['host', 'runner']) {
    out.push(`  // ${sideDoc[side]}.`);
    for (const f of spec.frames.filter((x) => x.from === side)) out.push(...jsdoc(frameDoc(f), '  '), `  ${f.name}: ${hex(f.type)},`);
  }
  out.push('} as const;', 'export type FrameType = (typeof FrameType)[keyof typeof FrameType];', '');
  out.push('/**', ' * Why a request was refused (ErrorInfo.code):');
  for (const e of spec.errorCodes) out.push(...wrap(e.doc, ` * - ${e.name}: `, ' *   '));
  out.push(' */', 'export const ERROR_CODES = [', ...spec.errorCodes.map((e) => `  '${e.name}',`), '] as const;');
  out.push('export type ErrorCode = (typeof ERROR_CODES)[number];');
  for (const p of spec.payloads) {
    out.push('', `/** The payload of ${p.frame} (JSON). */`, `export interface ${p.name} {`);
    for (const field of p.fields) out.push(...jsdoc(field.doc, '  '), `  ${field.name}${field.optional ? '?' : ''}: ${field.type};`);
    out.push('}');
  }
  out.push('', ...paragraphs(spec.agent.doc, '// '), '', "/** The agent's commands (JSON lines on its stdin), by `op`. */", 'export const AgentOp = {');
  for (const c of spec.agent.commands) out.push(...jsdoc(`{op, ${c.fields}}: ${c.doc}`, '  '), `  ${c.name}: '${c.op}',`);
  out.push('} as const;', '', "/** The agent's records (lines on its stdout), by their tag. */", 'export const AgentRecord = {');
  for (const r of spec.agent.records) out.push(...jsdoc(`\`${r.format}\`: ${r.doc}`, '  '), `  ${r.name}: '${r.tag}',`);
  out.push('} as const;', '');
  return out.join('\n');
}

function python(spec) {
  const out = [...header('#', 'For loom_runner.py and loom_agent.py (Python 3.8+).'), '#', ...paragraphs(spec.doc, '# '), ''];
  for (const c of spec.constants) out.push(...wrap(c.doc, '# '), `${c.name} = ${number(c.value)}`);
  for (const side of ['host', 'runner']) {
    const frames = spec.frames.filter((x) => x.from === side);
    out.push('', `# Frame types. ${sideDoc[side]}:`);
    for (const f of frames) out.push(...wrap(frameDoc(f), `#   ${f.name}: `, '#     '));
    for (const f of frames) out.push(`${f.name} = ${hex(f.type)}`);
  }
  out.push('', '# The JSON payloads:');
  for (const p of spec.payloads) {
    out.push(`#   ${p.name} (${p.frame}):`);
    for (const field of p.fields) out.push(...wrap(field.doc, `#     ${field.name} (${field.type}${field.optional ? ', optional' : ''}): `, '#       '));
  }
  out.push('', '# Why a request was refused (ErrorInfo.code):');
  for (const e of spec.errorCodes) out.push(...wrap(e.doc, `#   ${e.name}: `, '#     '));
  out.push('ERROR_CODES = (', ...spec.errorCodes.map((e) => `    "${e.name}",`), ')');
  out.push('', ...paragraphs(spec.agent.doc, '# '), '# Commands, by op:');
  for (const c of spec.agent.commands) out.push(...wrap(`{op, ${c.fields}}: ${c.doc}`, `#   ${c.op} `, '#     '));
  for (const c of spec.agent.commands) out.push(`AGENT_${c.name} = "${c.op}"`);
  out.push('# Records, by tag (bytes: as the agent writes them):');
  for (const r of spec.agent.records) out.push(...wrap(r.doc, `#   ${r.format}: `, '#     '));
  for (const r of spec.agent.records) out.push(`AGENT_${r.name} = b"${r.tag}"`);
  out.push('');
  return out.join('\n');
}

function javascript(spec) {
  const out = [...header('//', 'For loom-runner.js and loom-agent.js (CommonJS, Node 18+).'), '//', ...paragraphs(spec.doc, '// '), '', "'use strict';", ''];
  for (const c of spec.constants) out.push(...jsdoc(c.doc), `const ${c.name} = ${number(c.value)};`);
  out.push('', '/** The frame types. */', 'const FrameType = Object.freeze({');
  for (const side of ['host', 'runner']) {
    out.push(`  // ${sideDoc[side]}.`);
    for (const f of spec.frames.filter((x) => x.from === side)) out.push(...jsdoc(frameDoc(f), '  '), `  ${f.name}: ${hex(f.type)},`);
  }
  out.push('});', '', '/**', ' * Why a request was refused (ErrorInfo.code):');
  for (const e of spec.errorCodes) out.push(...wrap(e.doc, ` * - ${e.name}: `, ' *   '));
  out.push(` * @typedef {${spec.errorCodes.map((e) => `'${e.name}'`).join(' | ')}} ErrorCode`, ' */');
  out.push('const ERROR_CODES = Object.freeze([', ...spec.errorCodes.map((e) => `  '${e.name}',`), ']);');
  for (const p of spec.payloads) {
    out.push('', '/**', ` * The payload of ${p.frame} (JSON).`, ` * @typedef {object} ${p.name}`);
    for (const field of p.fields) out.push(...wrap(field.doc, ` * @property {${field.type}} ${field.optional ? `[${field.name}]` : field.name} `, ' *   '));
    out.push(' */');
  }
  out.push('', ...paragraphs(spec.agent.doc, '// '), '', "/** The agent's commands (JSON lines on its stdin), by `op`. */", 'const AgentOp = Object.freeze({');
  for (const c of spec.agent.commands) out.push(...jsdoc(`{op, ${c.fields}}: ${c.doc}`, '  '), `  ${c.name}: '${c.op}',`);
  out.push('});', '', "/** The agent's records (lines on its stdout), by their tag. */", 'const AgentRecord = Object.freeze({');
  for (const r of spec.agent.records) out.push(...jsdoc(`\`${r.format}\`: ${r.doc}`, '  '), `  ${r.name}: '${r.tag}',`);
  out.push('});', '');
  const names = [...spec.constants.map((c) => c.name), 'FrameType', 'ERROR_CODES', 'AgentOp', 'AgentRecord'];
  out.push('module.exports = {', ...names.map((n) => `  ${n},`), '};', '');
  return out.join('\n');
}

/** Each generated file (its path from the project root) and what it must hold. */
export function protocolFiles(rootDir = root) {
  const spec = readSpec(rootDir);
  return new Map([
    ['electron/main/engine/runner/protocol.gen.ts', typescript(spec)],
    ['resources/runner/loom_protocol.py', python(spec)],
    ['resources/runner/loom-protocol.js', javascript(spec)],
  ]);
}

/** The generated files that differ from what the source makes, each with why. */
export function staleProtocolFiles(rootDir = root) {
  const problems = [];
  for (const [path, body] of protocolFiles(rootDir)) {
    let committed;
    try {
      committed = readFileSync(join(rootDir, path), 'utf8');
    } catch {
      problems.push(`${path}: missing`);
      continue;
    }
    if (committed !== body) problems.push(`${path}: differs from what ${SOURCE} generates`);
  }
  return problems;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    if (process.argv.includes('--check')) {
      const problems = staleProtocolFiles();
      if (problems.length) console.error('gen-protocol: the generated files are stale: run npm run gen');
      for (const problem of problems) console.error(`  ${problem}`);
      process.exitCode = problems.length ? 1 : 0;
    } else {
      for (const [path, body] of protocolFiles()) writeFileSync(join(root, path), body);
      console.log(`gen-protocol: wrote the files generated from ${SOURCE}`);
    }
  } catch (err) {
    console.error(`gen-protocol: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 2;
  }
}
