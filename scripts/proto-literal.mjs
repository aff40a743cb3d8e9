// For the CLI's bundle (build-cli.mjs): generated protobuf code embeds each file's descriptor as
// base64 (`fileDesc("...")`), which @bufbuild/protobuf decodes at every start, and decoding needs
// descriptor.proto's own schema, booted first. On a 2-core VM the three (descriptor.proto's boot,
// then loom/v1/docker.proto's and google/protobuf/struct.proto's decoding) took 40 ms of each
// `loom exec`. Here the decoding happens once, at build time: the call becomes one that takes the
// decoded FileDescriptorProto as a JavaScript literal, and builds the same registry from it.
import { readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';

const require = createRequire(import.meta.url);
/** @bufbuild/protobuf's ES modules, as the bundle resolves them (through any symbolic link). */
export const PROTOBUF_ESM = join(realpathSync(dirname(require.resolve('@bufbuild/protobuf'))), '..', 'esm');
const internal = (path) => import(pathToFileURL(join(PROTOBUF_ESM, path)).href);

const { fromBinary } = await internal('index.js');
const { base64Decode } = await internal('wire/base64-encoding.js');
const { restoreJsonNames } = await internal('codegenv2/restore-json-names.js');
const { FileDescriptorProtoSchema } = await internal('wkt/google/protobuf/descriptor_pb.js');

/** What fileDesc(b64) decodes before it builds the registry: the FileDescriptorProto, JSON names restored. */
export function decodeFileDesc(b64) {
  const root = fromBinary(FileDescriptorProtoSchema, base64Decode(b64));
  root.messageType.forEach(restoreJsonNames);
  return root;
}

/**
 * The decoded FileDescriptorProto of `b64` as a JavaScript expression that makes the same
 * objects: each message an object whose prototype holds its field defaults (which is how
 * @bufbuild/protobuf tells a field set explicitly from one left at its default), with the same
 * own properties in the same order. Checked against the decoding before it is returned.
 */
export function descriptorLiteral(b64) {
  const root = decodeFileDesc(b64);
  const prototypes = new Map();
  const decls = [];
  const plain = (obj) => `{${Object.keys(obj).map((k) => `${JSON.stringify(k)}:${value(obj[k])}`).join(',')}}`;
  const value = (v) => {
    if (v === undefined) return 'undefined';
    if (v === null) return 'null';
    if (typeof v === 'string' || typeof v === 'boolean') return JSON.stringify(v);
    if (typeof v === 'number') {
      if (!Number.isFinite(v) && !Number.isNaN(v)) return v > 0 ? 'Infinity' : '-Infinity';
      return Number.isNaN(v) ? 'NaN' : Object.is(v, -0) ? '-0' : String(v);
    }
    if (typeof v === 'bigint') return `${v}n`;
    if (Array.isArray(v)) return `[${v.map(value).join(',')}]`;
    if (v instanceof Uint8Array) return `new Uint8Array([${v.join(',')}])`;
    if (typeof v !== 'object') throw new Error(`proto-literal: cannot write a ${typeof v}`);
    if (Object.getOwnPropertySymbols(v).length || Object.getOwnPropertyNames(v).length !== Object.keys(v).length) {
      throw new Error('proto-literal: an object with hidden properties');
    }
    const proto = Object.getPrototypeOf(v);
    if (proto === Object.prototype) return plain(v);
    // A message: its defaults are on its prototype, one per message type.
    if (Object.getPrototypeOf(proto) !== Object.prototype) throw new Error('proto-literal: an unexpected prototype chain');
    let name = prototypes.get(proto);
    if (name === undefined) {
      name = `p${prototypes.size}`;
      prototypes.set(proto, name);
      decls.push(`${name}=${plain(proto)}`);
    }
    return `o(${name},${plain(v)})`;
  };
  const body = value(root);
  const literal = `(()=>{const o=(p,v)=>Object.assign(Object.create(p),v);const ${decls.join(',')};return ${body}})()`;
  const made = new Function(`return ${literal}`)();
  if (!sameObjects(made, root)) throw new Error('proto-literal: the literal does not make the decoded descriptor');
  return literal;
}

/** Same own properties (in order), prototypes' properties, and values, all the way down. */
export function sameObjects(a, b) {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return Object.is(a, b);
  if (Array.isArray(a) !== Array.isArray(b) || a instanceof Uint8Array !== b instanceof Uint8Array) return false;
  if (a instanceof Uint8Array) return isDeepStrictEqual(a, b);
  const keys = Object.keys(a);
  if (!isDeepStrictEqual(keys, Object.keys(b))) return false;
  const pa = Object.getPrototypeOf(a);
  const pb = Object.getPrototypeOf(b);
  if ((pa === Object.prototype) !== (pb === Object.prototype) || (pa === Array.prototype) !== (pb === Array.prototype)) return false;
  if (pa !== Object.prototype && pa !== Array.prototype && !sameObjects({ ...pa }, { ...pb })) return false;
  return keys.every((k) => sameObjects(a[k], b[k]));
}

/**
 * The barrels of @bufbuild/protobuf: an import of one name from them (fileDesc, StructSchema)
 * runs every module they re-export. In a CommonJS bundle esbuild cannot leave unused modules out
 * (a module behind an import() runs its imports in order), and among those is descriptor.proto's
 * schema, booted at its first import (20 ms on a 2-core VM). Their importers import each name from
 * the module that defines it instead.
 */
const BARRELS = {
  '@bufbuild/protobuf/codegenv2': join(PROTOBUF_ESM, 'codegenv2', 'index.js'),
  '@bufbuild/protobuf/wkt': join(PROTOBUF_ESM, 'wkt', 'index.js'),
};

/** Each name a barrel re-exports (export * from), and the file that defines it. */
async function barrelNames(barrel) {
  const names = new Map();
  const text = readFileSync(barrel, 'utf8');
  for (const [, target] of text.matchAll(/^export \* from "(\.[^"]+)";$/gm)) {
    const file = join(dirname(barrel), target);
    for (const name of Object.keys(await import(pathToFileURL(file).href))) names.set(name, file);
  }
  return names;
}
const BARREL_NAMES = new Map(await Promise.all(Object.values(BARRELS).map(async (b) => [b, await barrelNames(b)])));

/**
 * `text` (a module of @bufbuild/protobuf, or generated code) with its value imports from a
 * barrel split into imports from the modules that define the names, and the imports of names it
 * no longer uses (fileDesc, once hydrateFileDesc replaced it) left out: the package declares that
 * its modules have no side effects, so nothing else changes. `file` resolves relative imports.
 */
export function splitBarrelImports(text, file) {
  return text.replace(/^import \{([^}]*)\} from "([^"]+)";$/gm, (statement, list, from) => {
    const barrel = BARRELS[from] ?? (from.startsWith('.') ? join(dirname(file), from) : undefined);
    const names = barrel === undefined ? undefined : BARREL_NAMES.get(barrel);
    const isProtobuf = names !== undefined || from.startsWith('@bufbuild/protobuf') || file.startsWith(PROTOBUF_ESM);
    if (!isProtobuf) return statement;
    const rest = text.replace(statement, '');
    const kept = list
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .filter((spec) => new RegExp(`\\b${spec.split(/\s+as\s+/).at(-1)}\\b`).test(rest));
    if (!names) return kept.length ? `import { ${kept.join(', ')} } from "${from}";` : '';
    const byFile = new Map();
    for (const spec of kept) {
      const where = names.get(spec.split(/\s+as\s+/)[0]);
      if (!where) return statement; // a name this split does not know: left as it was
      byFile.set(where, [...(byFile.get(where) ?? []), spec]);
    }
    return [...byFile].map(([where, specs]) => `import { ${specs.join(', ')} } from ${JSON.stringify(where)};`).join('\n');
  });
}
