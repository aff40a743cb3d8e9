// Bundles the `loom` command into ES modules, so that it starts in a fraction of the time
// tsx needs to compile the TypeScript sources on every run. bin/loom.js uses the bundle when
// it is newer than every source file, and the sources through tsx otherwise.
//
// The bundle sits three folders deep (out/cli/bundle/) like its entry (electron/main/cli/),
// so the paths the code resolves from its own location (../../../package.json, resources/)
// stay right; its chunks sit beside it for the same reason.
//
// Split: each command's module is imported when the command runs (see main.ts), and becomes a
// chunk of its own here, so `loom --help` reads and compiles a few kilobytes, and `loom exec`
// only what exec needs.
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
import { rmSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { build } from 'esbuild';

const OUT = 'out/cli/bundle';

/** Packages imported by the command's sources that are bundled in, with all they import. */
const BUNDLED = new Set(['dockerode', '@bufbuild/protobuf', 'tar-stream']);

/**
 * require() calls in bundled packages that load the LAZY parts from node_modules instead (with
 * the files they find beside them), only when called: in `file`, `from` becomes `to`. ssh and
 * withSession are called as functions; buildkit is required inside the one function using it.
 */
const LAZY_REQUIRES = [
  {
    file: /node_modules[\\/]docker-modem[\\/]lib[\\/]modem\.js$/,
    from: "ssh = require('./ssh'),",
    to: "ssh = function () { return require('docker-modem/lib/ssh').apply(this, arguments); },",
  },
  {
    file: /node_modules[\\/]dockerode[\\/]lib[\\/]docker\.js$/,
    from: "withSession = require('./session'),",
    to: "withSession = function () { return require('dockerode/lib/session').apply(this, arguments); },",
  },
  { file: /node_modules[\\/]dockerode[\\/]lib[\\/]docker\.js$/, from: "var buildkit = require('./buildkit');", to: "var buildkit = require('dockerode/lib/buildkit');" },
];
const LAZY = new Set(['docker-modem/lib/ssh', 'dockerode/lib/session', 'dockerode/lib/buildkit']);

function packageOf(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

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
    const byFile = new Map();
    for (const r of LAZY_REQUIRES) byFile.set(r.file, [...(byFile.get(r.file) ?? []), r]);
    for (const [file, replacements] of byFile) {
      b.onLoad({ filter: file }, async (args) => {
        let text = await readFile(args.path, 'utf8');
        const warnings = [];
        for (const r of replacements) {
          // A newer version of the package: still right, only slower to start.
          if (!text.includes(r.from)) warnings.push({ text: `no "${r.from}" in ${args.path}: what it requires is loaded at start` });
          text = text.replace(r.from, r.to);
        }
        return { contents: text, loader: 'js', warnings };
      });
    }
  },
};

// Chunk names carry a hash: the last build's must not pile up.
rmSync(OUT, { recursive: true, force: true });
await build({
  entryPoints: { loom: 'electron/main/cli/main.ts' },
  outdir: OUT,
  outExtension: { '.js': '.mjs' },
  splitting: true,
  chunkNames: '[name]-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  plugins: [placement],
  // The bundled packages are CommonJS: their require() of Node's modules and of the lazy parts.
  banner: { js: "import { createRequire as __loomCreateRequire } from 'node:module'; const require = __loomCreateRequire(import.meta.url);" },
  // Fewer bytes to read and parse at every start; the source map names the real lines.
  minify: true,
  keepNames: true,
  sourcemap: 'linked',
  logLevel: 'warning',
});
