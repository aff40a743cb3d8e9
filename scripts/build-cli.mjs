// Bundles the `loom` command, so that it starts in a fraction of the time tsx needs to compile
// the TypeScript sources on every run. bin/loom.js uses the bundle when it is newer than the
// sources it was made from, and the sources through tsx otherwise.
//
// The bundle sits three folders deep (out/cli/bundle/) like its entry (electron/main/cli/),
// so the paths the code resolves from its own location (../../../package.json, resources/)
// stay right; its chunks sit beside it for the same reason.
//
// loom.mjs, ES modules, split: each command's module is imported when the command runs (see
// main.ts), and becomes a chunk of its own here, so `loom --help` reads and compiles a few
// kilobytes. `loom exec` runs from exec.mjs instead: one CommonJS bundle compiled with V8's code
// cache (see below).
//
// What `loom exec` loads on every run is bundled in, packages included (BUNDLED): resolving and
// reading a hundred files of node_modules one by one cost more than compiling them (measured:
// 220 ms of a 610 ms `loom exec`). Other packages stay where they are, loaded by Node as
// before: they serve other commands, and some find files beside their own (better-sqlite3's
// addon). Parts of the bundled packages that only rare paths use are required from
// node_modules when first called (LAZY): docker-modem's SSH transport (ssh2, with a native
// addon) and dockerode's BuildKit session and progress decoder (gRPC, protobufjs, and .proto
// files found beside them).
import { readFile } from 'node:fs/promises';
import { rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { basename } from 'node:path';
import { isBuiltin } from 'node:module';
import { build } from 'esbuild';
import { descriptorLiteral, PROTOBUF_ESM, splitBarrelImports } from './proto-literal.mjs';

const OUT = 'out/cli/bundle';

/** Packages imported by the command's sources that are bundled in, with all they import. */
const BUNDLED = new Set(['dockerode', '@bufbuild/protobuf', 'tar-stream']);

/** An object that stands for a Node module, and requires it when a property is first read. */
const readThrough = (id) => `new Proxy({}, { get: function (_, key) { return require('${id}')[key]; } })`;

/**
 * Edits to bundled packages, for start-up time only: in each file, [from, to] replacements.
 * - require() calls that load the LAZY parts from node_modules (with the files they find beside
 *   them) only when called: ssh and withSession are called as functions; buildkit is required
 *   inside the one function that uses it.
 * - docker-modem formats every request's options in full (util.inspect, the agent and its
 *   sockets included) for a debug line that is printed only under DEBUG=modem: 10 ms a run.
 * - Node's https (with tls: 5 ms to load on a 2-core VM) only for an engine reached over TLS, and
 *   zlib only for a gzipped build context (neither of which `loom exec` does): loaded on first
 *   use, through an object that reads through to the module.
 */
const PATCHES = {
  'docker-modem/lib/http.js': [["var nativeHttps = require('https'),", `var nativeHttps = ${readThrough('https')},`]],
  'dockerode/lib/util.js': [["var zlib = require('zlib');", `var zlib = ${readThrough('zlib')};`]],
  'docker-modem/lib/modem.js': [
    ["ssh = require('./ssh'),", "ssh = function () { return require('docker-modem/lib/ssh').apply(this, arguments); },"],
    ["debug('Sending: %s', util.inspect(options, {", "if (debug.enabled) debug('Sending: %s', util.inspect(options, {"],
  ],
  'dockerode/lib/docker.js': [
    ["withSession = require('./session'),", "withSession = function () { return require('dockerode/lib/session').apply(this, arguments); },"],
    ["var buildkit = require('./buildkit');", "var buildkit = require('dockerode/lib/buildkit');"],
  ],
};
const LAZY = new Set(['docker-modem/lib/ssh', 'dockerode/lib/session', 'dockerode/lib/buildkit']);

function packageOf(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/**
 * Generated protobuf code's fileDesc("base64", deps) becomes hydrateFileDesc(literal, deps): the
 * descriptor decoded at build time (proto-literal.mjs), from which the registry is built as
 * fileDesc builds it once it has decoded the base64. descriptor.proto's schema, which only that
 * decoding needs, is then left out of the bundle, as is every other module of the package's
 * barrels that nothing uses (splitBarrelImports).
 */
const protoLiterals = {
  name: 'loom-proto-literals',
  setup(b) {
    b.onResolve({ filter: /^loom-hydrate-file-desc$/ }, () => ({ path: 'hydrate', namespace: 'loom-hydrate' }));
    b.onLoad({ filter: /.*/, namespace: 'loom-hydrate' }, () => ({
      loader: 'js',
      resolveDir: PROTOBUF_ESM,
      // codegenv2/file.js's fileDesc, after its fromBinary and restoreJsonNames.
      contents: `
        import { createEmbeddedFileRegistry } from './registry.js';
        export function hydrateFileDesc(root, imports) {
          root.dependency = imports?.map((f) => f.proto.name) ?? [];
          const reg = createEmbeddedFileRegistry(root, (name) => imports?.find((f) => f.proto.name === name));
          return reg.getFile(root.name);
        }
      `,
    }));
    // Generated code (shared/gen) and @bufbuild/protobuf's own modules (the WKT files, the barrels' importers).
    b.onLoad({ filter: /(_pb\.ts|[\\/]@bufbuild[\\/]protobuf[\\/]dist[\\/]esm[\\/].*\.js)$/ }, async (args) => {
      let text = await readFile(args.path, 'utf8');
      const hydrate = text.includes('fileDesc("');
      if (hydrate) {
        text = text.replace(/\bfileDesc\("([A-Za-z0-9+/=]+)"/g, (_, b64) => `__loomHydrateFileDesc(${descriptorLiteral(b64)}`);
        text = `import { hydrateFileDesc as __loomHydrateFileDesc } from 'loom-hydrate-file-desc';\n${text}`;
      }
      return { contents: splitBarrelImports(text, args.path), loader: args.path.endsWith('.ts') ? 'ts' : 'js' };
    });
  },
};

const placement = {
  name: 'loom-cli-placement',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (isBuiltin(args.path)) return undefined;
      const fromPackage = /[\\/]node_modules[\\/]/.test(args.importer);
      // A bundled package's own imports are bundled too; the lazy targets never are.
      if (LAZY.has(args.path)) return { path: args.path, external: true };
      if (fromPackage || BUNDLED.has(packageOf(args.path))) return undefined;
      return { path: args.path, external: true };
    });
    for (const [file, edits] of Object.entries(PATCHES)) {
      const filter = new RegExp(`[\\\\/]node_modules[\\\\/]${file.split('/').map((part) => part.replaceAll('.', '\\.')).join('[\\\\/]')}$`);
      b.onLoad({ filter }, async (args) => {
        let text = await readFile(args.path, 'utf8');
        const warnings = [];
        for (const [from, to] of edits) {
          // A newer version of the package: still right, only slower to start.
          if (!text.includes(from)) warnings.push({ text: `no "${from}" in ${args.path}: left as it is (slower to start)` });
          text = text.replace(from, to);
        }
        return { contents: text, loader: 'js', warnings };
      });
    }
  },
};

// `loom exec`, the command that scripts and agents run again and again, has an entry of its own
// (exec.mjs, which bin/loom.js imports for it): main.ts with no other command, as one CommonJS
// bundle loaded with V8's code cache (electron/main/cli/code-cache.ts: Node 20 has no compile
// cache for ES modules). Its name carries a hash of its content, as its cache's does.
const COMMON = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  plugins: [protoLiterals, placement],
  // Fewer bytes to read and parse at every start; the source map names the real lines.
  minify: true,
  keepNames: true,
  // ASCII only (esbuild's default, said here): code-cache.ts reads the bundle as latin1.
  charset: 'ascii',
  sourcemap: 'linked',
  logLevel: 'warning',
};

/**
 * exec-command.ts's import of the engine, marked: a run that loaded it (and ran a program itself)
 * compiled much more than one that stopped earlier or handed its run off, and writes the fuller
 * cache ('engine' rather than 'base': see code-cache.ts).
 */
const ENGINE_LOADED = "Symbol.for('loom.cli.engineLoaded')";
const markEngine = {
  name: 'loom-mark-engine',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/engine\/executor$/ }, (args) =>
      args.importer.endsWith('exec-command.ts') ? { path: 'executor', namespace: 'loom-engine' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'loom-engine' }, () => ({
      resolveDir: process.cwd(),
      loader: 'js',
      contents: `export * from './electron/main/engine/executor.ts';\nglobalThis[${ENGINE_LOADED}] = true;\n`,
    }));
  },
};

/** In the exec bundle, main.ts's imports of the other commands: never called (see bin/loom.js). */
const onlyExec = {
  name: 'loom-only-exec',
  setup(b) {
    b.onResolve({ filter: /^\.\/[a-z]+-command$/ }, (args) =>
      args.importer.endsWith('main.ts') && args.path !== './exec-command' ? { path: args.path, namespace: 'loom-elsewhere' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'loom-elsewhere' }, (args) => ({
      loader: 'js',
      contents: `throw new Error(${JSON.stringify(`${args.path} is not in the exec bundle: bin/loom.js runs it from loom.mjs`)});`,
    }));
  },
};

// Names carry a hash: the last build's files (and code caches) must not pile up.
rmSync(OUT, { recursive: true, force: true });
const cached = await build({
  ...COMMON,
  plugins: [protoLiterals, placement, markEngine, onlyExec],
  entryPoints: { 'exec-main': 'electron/main/cli/main.ts' },
  outdir: OUT,
  entryNames: '[name]-[hash]',
  outExtension: { '.js': '.cjs' },
  format: 'cjs',
  // The paths the code finds from its own location: the bundle sits as deep as its sources.
  define: { 'import.meta.url': '__loomImportMetaUrl' },
  metafile: true,
});
const execBundle = Object.keys(cached.metafile.outputs).find((f) => f.endsWith('.cjs'));

/** exec.mjs: the exec bundle's main(), through the code cache. */
const execEntry = {
  name: 'loom-exec-entry',
  setup(b) {
    b.onResolve({ filter: /^loom-exec-entry$/ }, () => ({ path: 'exec', namespace: 'loom-exec-entry' }));
    b.onLoad({ filter: /.*/, namespace: 'loom-exec-entry' }, () => ({
      resolveDir: process.cwd(),
      loader: 'js',
      contents: `
        import { fileURLToPath } from 'node:url';
        import { loadWithCodeCache } from './electron/main/cli/code-cache.ts';
        const bundle = loadWithCodeCache(fileURLToPath(new URL(${JSON.stringify(`./${basename(execBundle)}`)}, import.meta.url)), ['base', 'engine']);
        export async function main(argv) {
          try {
            return await bundle.exports.main(argv);
          } finally {
            bundle.saveCache(globalThis[${ENGINE_LOADED}] ? 'engine' : 'base');
          }
        }
      `,
    }));
  },
};

const esm = await build({
  ...COMMON,
  plugins: [execEntry, protoLiterals, placement],
  metafile: true,
  entryPoints: { loom: 'electron/main/cli/main.ts', exec: 'loom-exec-entry' },
  outdir: OUT,
  outExtension: { '.js': '.mjs' },
  splitting: true,
  chunkNames: '[name]-[hash]',
  format: 'esm',
  // The bundled packages are CommonJS: their require() of Node's modules and of the lazy parts.
  banner: { js: "import { createRequire as __loomCreateRequire } from 'node:module'; const require = __loomCreateRequire(import.meta.url);" },
});

// The sources `loom exec` runs from (exec.mjs, the chunks it imports, its bundle): bin/loom.js
// finds them stale when one of them changed, checking these alone (a third of the project's)
// before every `loom exec`.
const execSources = new Set(Object.keys(cached.metafile.inputs));
const pending = [Object.keys(esm.metafile.outputs).find((f) => f.endsWith('/exec.mjs'))];
for (let out; (out = pending.pop()); ) {
  for (const input of Object.keys(esm.metafile.outputs[out].inputs)) execSources.add(input);
  for (const i of esm.metafile.outputs[out].imports) if (i.kind === 'import-statement' && !i.external) pending.push(i.path);
}
writeFileSync(`${OUT}/exec-sources.json`, `${JSON.stringify([...execSources].filter((f) => /^(electron|shared)\//.test(f)))}\n`);

// The native `loom exec` client (bin/loom-exec.c; bin/loom runs it), where a C compiler is found:
// without one, `loom exec` starts through Node as before, only slower.
const client = 'out/cli/loom-exec';
rmSync(client, { force: true });
if (process.platform !== 'win32') {
  const cc = process.env.CC || 'cc';
  const built = spawnSync(cc, ['-O2', '-Wall', '-Wextra', '-o', client, 'bin/loom-exec.c'], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (built.status !== 0) console.warn(`build-cli: no native loom exec client (${cc}: ${built.error?.message ?? `exit ${built.status}`}); loom exec starts through Node`);
}
