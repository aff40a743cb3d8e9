// Package installs from local sources (no network, as on an offline or locked-down machine):
// a pip index in a directory, an npm tarball, and the installers' own errors; then the
// configurable sources of a corporate set-up: an npm registry of our own and an extra CA, served
// by this file on the bridge network's gateway, where a bridge container reaches the host.
import { create } from '@bufbuild/protobuf';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join, normalize } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildLocalIndex, type LocalIndex } from '../../../../bench/wheels';
import { DEFAULT_IMAGES } from '../../../../shared/defaults';
import { ExecuteRequestSchema, NetworkMode, Phase, RuntimeType, type ExecuteEvent } from '../../../../shared/gen/loom/v1/docker_pb';
import { PackageInstallError, ValidationError } from '../errors';
import { createExecutor, type Executor } from '../executor';
import { bridgeHostAddress } from '../engine-client/host-address';
import { listPackageImages, prunePackageImages } from './package-cache';
import { planInstall, type PackageSources } from './packages';
import { normalizeRequest, requestPolicyOf } from '../request/request';
import { docker, requireEngineAndImages, text } from '../testing/test-support';

/** The executor's packages directory: the npm tarball is packed into it. */
let dir: string;
/** Somewhere else on the host. */
let elsewhere: string;
let executor: Executor;
let npmTarball: string;
let pipIndex: LocalIndex | undefined;

beforeAll(async () => {
  await requireEngineAndImages();
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'loom-pkgs-')));
  elsewhere = realpathSync(mkdtempSync(join(tmpdir(), 'loom-elsewhere-')));
  // A PEP 503 index laid out in a directory, with one wheel (the bench's own builder).
  pipIndex = buildLocalIndex([{ name: 'loomdemo', version: '1.0', value: 'installed from the local index' }]);
  // An npm package packed to a tarball, as `npm pack` makes it.
  const pkg = join(dir, 'npm-pkg');
  mkdirSync(pkg);
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'loom-npm-demo', version: '1.2.3', main: 'index.js' }));
  writeFileSync(join(pkg, 'index.js'), "module.exports = { value: 'installed from a local tarball' };\n");
  const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: pkg }).toString().trim();
  npmTarball = join(dir, packed);
  executor = await createExecutor({ packageSources: { pipIndexUrl: pipIndex.index }, localPackages: { dir }, minIdlePerConfig: 0 });
});

afterAll(async () => {
  await executor?.close();
  // The derived images this file made (their containers are gone now, so none is in use).
  await prunePackageImages(docker);
  for (const d of [dir, elsewhere]) if (d) rmSync(d, { recursive: true, force: true });
  pipIndex?.remove();
});

describe('packages', () => {
  it('installs a pip package from a local index when the container is created, then reuses it', async () => {
    const events: ExecuteEvent[] = [];
    const r = await executor.execute(
      { command: ['python3', '-c', 'import loomdemo; print(loomdemo.VALUE)'], config: { packages: ['loomdemo==1.0'] } },
      { onEvent: (e) => events.push(e) },
    );
    expect(text(r.stderr)).toBe('');
    expect(text(r.stdout)).toBe('installed from the local index\n');
    expect(r.containerCreated).toBe(true);
    expect(r.timings?.packagesMs).toBeGreaterThan(0);
    expect(events.some((e) => e.event.case === 'phase' && e.event.value.phase === Phase.PACKAGES)).toBe(true);
    const logs = events.flatMap((e) => (e.event.case === 'installLog' ? [e.event.value] : []));
    expect(logs.join('\n')).toMatch(/Successfully installed loomdemo-1.0/);

    const again = await executor.execute({ command: ['python3', '-c', 'import loomdemo; print(1)'], config: { packages: ['loomdemo==1.0'] } });
    expect(again.containerCreated).toBe(false);
    expect(again.timings?.packagesMs).toBe(0);
  });

  it('caches installed packages as an image: a second container with the same set has no install step', async () => {
    const events: ExecuteEvent[] = [];
    // Another config name: another pool key, so a new container; the package set is the same.
    const r = await executor.execute(
      { command: ['python3', '-c', 'import loomdemo; print(loomdemo.VALUE)'], config: { name: 'second-config', packages: ['loomdemo==1.0'] } },
      { onEvent: (e) => events.push(e) },
    );
    expect(r.containerCreated).toBe(true);
    expect(text(r.stdout)).toBe('installed from the local index\n');
    expect(events.some((e) => e.event.case === 'installLog')).toBe(false);
    expect(events.some((e) => e.event.case === 'phase' && e.event.value.phase === Phase.PACKAGES)).toBe(false);
    const images = await listPackageImages(docker);
    const cached = images.find((i) => i.packages.includes('loomdemo==1.0'));
    expect(cached?.baseImage).toBe('python:3.11-slim');
    const info = await docker.getContainer(r.containerId).inspect();
    expect(info.Config.Image).toBe(cached?.tag);
    // Installed on the read-only root: the program cannot change them.
    const tamper = await executor.execute({
      command: ['python3', '-c', 'import loomdemo, os; open(os.path.join(os.path.dirname(loomdemo.__file__), "x"), "w")'],
      config: { name: 'second-config', packages: ['loomdemo==1.0'] },
    });
    expect(text(tamper.stderr)).toMatch(/Read-only file system/);
  });

  it("reports a failed pip install with pip's own message", async () => {
    const err = await executor
      .execute({ command: ['python3', '-c', 'pass'], config: { packages: ['no-such-package-loom'] } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PackageInstallError);
    const e = err as PackageInstallError;
    expect(e.installer).toBe('pip');
    expect(e.output).toMatch(/Could not find a version that satisfies the requirement no-such-package-loom/);
    expect(e.message).toContain('no-such-package-loom');
  });

  it('installs an npm package from a local tarball in its packages directory and requires it', async () => {
    const r = await executor.execute({
      runtimeType: RuntimeType.NODE,
      command: ['node', '-e', "console.log(require('loom-npm-demo').value)"],
      config: { packages: [npmTarball] },
    });
    expect(text(r.stdout)).toBe('installed from a local tarball\n');
  });

  it('refuses the same tarball outside its packages directory, or behind a link that leads out, before any container', async () => {
    const outside = join(elsewhere, basename(npmTarball));
    const link = join(dir, 'link-out-1.0.0.tgz');
    symlinkSync(outside, link);
    const attempt = async (path: string): Promise<{ err: unknown; events: ExecuteEvent[] }> => {
      const events: ExecuteEvent[] = [];
      const err = await executor
        .execute({ runtimeType: RuntimeType.NODE, command: ['node', '-e', '1'], config: { packages: [path] } }, { onEvent: (e) => events.push(e) })
        .then(() => undefined, (e: unknown) => e);
      return { err, events };
    };
    const before = executor.containers().length;
    const problems: string[] = [];
    for (const exists of [false, true]) {
      if (exists) copyFileSync(npmTarball, outside);
      for (const path of [outside, link]) {
        const { err, events } = await attempt(path);
        expect(err).toBeInstanceOf(ValidationError);
        expect((err as ValidationError).field).toBe('config.packages[0]');
        expect((err as ValidationError).problem).toContain(`not in the packages directory ${dir}`);
        expect(events).toEqual([]);
        problems.push(`${path}: ${(err as ValidationError).problem}`);
      }
    }
    // The same answer before and after the file appeared outside: nothing about it leaks.
    expect(problems.slice(0, 2)).toEqual(problems.slice(2));
    expect(executor.containers().length).toBe(before);
  });

  it("reports a failed npm install with npm's own message", async () => {
    const broken = join(dir, 'broken-1.0.0.tgz');
    writeFileSync(broken, 'this is not a gzipped tarball');
    const err = await executor
      .execute({ runtimeType: RuntimeType.NODE, command: ['node', '-e', '1'], config: { packages: [broken] } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PackageInstallError);
    const e = err as PackageInstallError;
    expect(e.installer).toBe('npm');
    expect(e.output).toMatch(/npm error/);
    expect(e.output).toMatch(/TAR_BAD_ARCHIVE|ENOENT|EINVALIDTAR|not a valid|Unrecognized archive format/i);
    expect(e.exitCode).not.toBe(0);
  });

  it('refuses registry packages at once when the network mode gives no way to reach the registry', async () => {
    const started = Date.now();
    const err = await executor
      .execute({ runtimeType: RuntimeType.NODE, command: ['node', '-e', '1'], config: { packages: ['left-pad@1.3.0'] } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).field).toBe('config.packages');
    expect((err as Error).message).toMatch(/network mode is NONE.*BRIDGE/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('removes the container of a failed install', async () => {
    const before = executor.containers().length;
    await executor.execute({ command: ['python3', '-c', 'pass'], config: { name: 'fails', packages: ['also-missing-loom'] } }).catch(() => undefined);
    expect(executor.containers().length).toBe(before);
  });
});

/** Where planInstall mounts the extra CA in the container. */
const CA_IN_CONTAINER = '/opt/loom/ca.crt';

function specOf(runtimeType: RuntimeType, packages: string[], networkMode = NetworkMode.BRIDGE): ReturnType<typeof normalizeRequest>['container'] {
  const request = create(ExecuteRequestSchema, { runtimeType, command: ['true'], config: { packages, networkMode } });
  return normalizeRequest(request, requestPolicyOf({})).container;
}

describe('planInstall: where packages come from', () => {
  it('points npm at the configured registry, and sets no registry without one', () => {
    const plan = planInstall(specOf(RuntimeType.NODE, ['left-pad@1.3.0']), { npmRegistry: 'https://npm.corp.example/' });
    expect(plan?.installer).toBe('npm');
    expect(plan?.env.npm_config_registry).toBe('https://npm.corp.example/');
    expect(plan?.argv.slice(0, 2)).toEqual(['npm', 'install']);
    expect(plan?.argv.slice(-2)).toEqual(['--', 'left-pad@1.3.0']);
    expect(plan?.mounts).toEqual([]);

    const plain = planInstall(specOf(RuntimeType.NODE, ['left-pad@1.3.0']), {});
    expect(Object.keys(plain?.env ?? {}).filter((k) => /registry|cafile|CERT|CA_BUNDLE/i.test(k))).toEqual([]);
  });

  it('mounts the extra CA read-only at /opt/loom/ca.crt and points pip, npm and Node at it', () => {
    const sources: PackageSources = { caFile: '/etc/corp/ca.pem', npmRegistry: 'https://npm.corp.example/', pipIndexUrl: 'https://pypi.corp.example/simple/' };
    const env = { PIP_CERT: CA_IN_CONTAINER, REQUESTS_CA_BUNDLE: CA_IN_CONTAINER, SSL_CERT_FILE: CA_IN_CONTAINER, NODE_EXTRA_CA_CERTS: CA_IN_CONTAINER, npm_config_cafile: CA_IN_CONTAINER };
    const pip = planInstall(specOf(RuntimeType.PYTHON, ['requests==2.31.0']), sources);
    const npm = planInstall(specOf(RuntimeType.NODE, ['left-pad@1.3.0']), sources);
    for (const plan of [pip, npm]) {
      expect(plan?.mounts).toEqual([{ hostPath: '/etc/corp/ca.pem', containerPath: CA_IN_CONTAINER, writable: false }]);
      expect(plan?.env).toMatchObject(env);
    }
    expect(pip?.installer).toBe('pip');
    const at = pip?.argv.indexOf('--index-url') ?? -1;
    expect(pip?.argv[at + 1]).toBe('https://pypi.corp.example/simple/');
    expect(pip?.argv.slice(-2)).toEqual(['--', 'requests==2.31.0']);
    expect(npm?.env.npm_config_registry).toBe('https://npm.corp.example/');
  });

  it('mounts a pip index directory alone and reads it as a file:// index; find-links alone is offline', () => {
    const indexed = planInstall(specOf(RuntimeType.PYTHON, ['loomdemo==1.0'], NetworkMode.NONE), { pipIndexUrl: '/srv/simple' });
    expect(indexed?.mounts).toEqual([{ hostPath: '/srv/simple', containerPath: '/opt/loom/sources/pip-index', writable: false }]);
    expect(indexed?.argv).toContain('file:///opt/loom/sources/pip-index');
    const links = planInstall(specOf(RuntimeType.PYTHON, ['loomdemo'], NetworkMode.NONE), { pipFindLinks: '/srv/wheels' });
    expect(links?.argv).toEqual(expect.arrayContaining(['--find-links', '/opt/loom/sources/pip-find-links', '--no-index']));
  });

  it('names the configured registry when the network mode cannot reach it', () => {
    expect(() => planInstall(specOf(RuntimeType.NODE, ['left-pad'], NetworkMode.NONE), { npmRegistry: 'https://npm.corp.example/' })).toThrow(
      /left-pad must come from https:\/\/npm\.corp\.example\/, but the network mode is NONE/,
    );
  });
});

interface Served {
  /** Base URL with a trailing slash, as a registry setting takes it. */
  url: string;
  /** "METHOD /path" of every request, in order. */
  requests: string[];
  server: Server;
}

const REG_PKG = { name: 'loomregdemo', version: '2.0.0', value: 'installed from our own registry' };

describe('package sources served over the bridge network', () => {
  let work = '';
  let caFile = '';
  let http: Served | undefined;
  let https: Served | undefined;

  beforeAll(async () => {
    // The host as a bridge container sees it (a new engine may not record the bridge's gateway).
    const { address: gateway } = await bridgeHostAddress(docker, { image: DEFAULT_IMAGES.python });
    work = mkdtempSync(join(tmpdir(), 'loom-registry-'));
    const tarball = packNpm(work, REG_PKG);
    const certs = makeCertificates(work, gateway);
    caFile = certs.caFile;
    const handler = (self: () => Served) => registryHandler(self, tarball, pipIndex?.index ?? '');
    http = await serve(createHttpServer(handler(() => http!)), gateway, 'http');
    https = await serve(createHttpsServer({ key: certs.key, cert: certs.cert }, handler(() => https!)), gateway, 'https');
  });

  afterAll(async () => {
    for (const s of [http, https]) if (s) await new Promise((r) => s.server.close(r));
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const nodeRequest = {
    runtimeType: RuntimeType.NODE,
    command: ['node', '-e', `console.log(require('${REG_PKG.name}').value)`],
    config: { networkMode: NetworkMode.BRIDGE, packages: [`${REG_PKG.name}@${REG_PKG.version}`] },
  };

  it('installs an npm package from the configured registry (packument, then tarball)', async () => {
    const ex = await createExecutor({ packageSources: { npmRegistry: http!.url }, minIdlePerConfig: 0 });
    try {
      const r = await ex.execute(nodeRequest);
      expect(text(r.stderr)).toBe('');
      expect(text(r.stdout)).toBe(`${REG_PKG.value}\n`);
    } finally {
      await ex.close();
    }
    expect(http!.requests).toContain(`GET /${REG_PKG.name}`);
    expect(http!.requests).toContain(`GET /-/${REG_PKG.name}-${REG_PKG.version}.tgz`);
  });

  it('trusts an HTTPS registry and pip index whose certificate only the configured CA signs', async () => {
    const ex = await createExecutor({ packageSources: { npmRegistry: https!.url, pipIndexUrl: `${https!.url}simple/`, caFile }, minIdlePerConfig: 0 });
    try {
      const node = await ex.execute(nodeRequest);
      expect(text(node.stderr)).toBe('');
      expect(text(node.stdout)).toBe(`${REG_PKG.value}\n`);
      const python = await ex.execute({
        command: ['python3', '-c', 'import loomdemo; print(loomdemo.VALUE)'],
        config: { networkMode: NetworkMode.BRIDGE, packages: ['loomdemo==1.0'] },
      });
      expect(text(python.stderr)).toBe('');
      expect(text(python.stdout)).toBe('installed from the local index\n');
    } finally {
      await ex.close();
    }
    expect(https!.requests).toContain(`GET /-/${REG_PKG.name}-${REG_PKG.version}.tgz`);
    expect(https!.requests).toContain('GET /simple/loomdemo/loomdemo-1.0-py3-none-any.whl');
  });

  // npm retries a failed fetch twice, 10 s then 60 s later (its defaults): over a minute.
  it("fails against that HTTPS registry and index without the CA, with npm's and pip's own certificate errors", { timeout: 240_000 }, async () => {
    const ex = await createExecutor({ packageSources: { npmRegistry: https!.url, pipIndexUrl: `${https!.url}simple/` }, minIdlePerConfig: 0 });
    try {
      const [npm, pip] = await Promise.all([
        ex.execute(nodeRequest).catch((e: unknown) => e),
        ex.execute({ command: ['python3', '-c', 'pass'], config: { networkMode: NetworkMode.BRIDGE, packages: ['loomdemo==1.0'] } }).catch((e: unknown) => e),
      ]);
      expect(npm).toBeInstanceOf(PackageInstallError);
      expect((npm as PackageInstallError).installer).toBe('npm');
      expect((npm as PackageInstallError).output).toMatch(/SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY/);
      expect(pip).toBeInstanceOf(PackageInstallError);
      expect((pip as PackageInstallError).installer).toBe('pip');
      expect((pip as PackageInstallError).output).toMatch(/CERTIFICATE_VERIFY_FAILED/);
    } finally {
      await ex.close();
    }
  });
});

/** Packs a one-file npm package; its tarball bytes. */
function packNpm(work: string, p: typeof REG_PKG): Buffer {
  const dir = join(work, 'npm-src');
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: p.name, version: p.version, main: 'index.js' }));
  writeFileSync(join(dir, 'index.js'), `module.exports = { value: ${JSON.stringify(p.value)} };\n`);
  const file = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: dir }).toString().trim();
  return readFileSync(join(work, file));
}

/** A CA of our own and a server certificate it signs for `ip` (the only name containers use). */
function makeCertificates(work: string, ip: string): { caFile: string; key: Buffer; cert: Buffer } {
  const at = (name: string): string => join(work, name);
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=Loom test CA', '-keyout', at('ca.key'), '-out', at('ca.crt'),
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=loom-test-registry', '-keyout', at('server.key'), '-out', at('server.csr'));
  writeFileSync(at('server.ext'), `subjectAltName=IP:${ip}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`);
  openssl('x509', '-req', '-days', '2', '-in', at('server.csr'), '-CA', at('ca.crt'), '-CAkey', at('ca.key'), '-CAcreateserial', '-extfile', at('server.ext'), '-out', at('server.crt'));
  // Mounted as a single file for nobody (65534) to read; the directory around it is not seen.
  return { caFile: at('ca.crt'), key: readFileSync(at('server.key')), cert: readFileSync(at('server.crt')) };
}

/**
 * A minimal npm registry (GET /<name>: the packument; GET /-/<file>: the tarball) that also
 * serves a pip "simple" index directory under /simple/.
 */
function registryHandler(self: () => Served, tarball: Buffer, pipIndexDir: string): (req: IncomingMessage, res: ServerResponse) => void {
  const file = `${REG_PKG.name}-${REG_PKG.version}.tgz`;
  const packument = (): string =>
    JSON.stringify({
      name: REG_PKG.name,
      'dist-tags': { latest: REG_PKG.version },
      versions: {
        [REG_PKG.version]: {
          name: REG_PKG.name,
          version: REG_PKG.version,
          main: 'index.js',
          dist: {
            tarball: `${self().url}-/${file}`,
            shasum: createHash('sha1').update(tarball).digest('hex'),
            integrity: `sha512-${createHash('sha512').update(tarball).digest('base64')}`,
          },
        },
      },
    });
  return (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    self().requests.push(`${req.method} ${path}`);
    if (path === `/${REG_PKG.name}`) return void res.writeHead(200, { 'content-type': 'application/json' }).end(packument());
    if (path === `/-/${file}`) return void res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(tarball);
    if (path.startsWith('/simple/') && pipIndexDir) {
      let target = normalize(join(pipIndexDir, path.slice('/simple/'.length)));
      if (target.startsWith(pipIndexDir)) {
        try {
          if (statSync(target).isDirectory()) target = join(target, 'index.html');
          const type = target.endsWith('.html') ? 'text/html' : 'application/octet-stream';
          return void res.writeHead(200, { 'content-type': type }).end(readFileSync(target));
        } catch {
          // not there: 404 below
        }
      }
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
  };
}

async function serve(server: Server, host: string, scheme: 'http' | 'https'): Promise<Served> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  return { url: `${scheme}://${host}:${(server.address() as AddressInfo).port}/`, requests: [], server };
}
