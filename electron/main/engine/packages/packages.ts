// Installing pip/npm packages into a new pooled container, from a configurable index or
// registry (and extra CA) so that offline and corporate setups work. Names were validated
// already; `--` still ends the installer's options so no name can ever act as one.
import type Docker from 'dockerode';
import { basename, isAbsolute } from 'node:path';
import { NODE_PACKAGES_DIR, PYTHON_PACKAGES_DIR, SANDBOX_USER, type ExtraMount } from '../container/container';
import { PackageInstallError, ValidationError } from '../errors';
import { runExec } from '../container/exec';
import type { ContainerSpec } from '../request/request';

export interface PackageSources {
  /** pip index: a URL, or a host directory laid out as a PEP 503 "simple" index. */
  pipIndexUrl?: string;
  /** A host directory of wheels/sdists that pip may install from (--find-links). */
  pipFindLinks?: string;
  /** npm registry URL. */
  npmRegistry?: string;
  /** A host CA bundle to trust for the index and registry (e.g. a corporate TLS proxy). */
  caFile?: string;
}

const SOURCES_DIR = '/opt/loom/sources';
const CA_PATH = '/opt/loom/ca.crt';
const INSTALL_OUTPUT_BYTES = 256 * 1024;
/** Enough for big packages over slow links; the container is discarded if it is exceeded. */
const INSTALL_TIMEOUT_MS = 15 * 60 * 1000;

export interface InstallPlan {
  mounts: ExtraMount[];
  env: Record<string, string>;
  argv: string[];
  installer: 'pip' | 'npm';
}

/** What the container needs for its packages: the installer command line and its mounts. */
export function planInstall(spec: ContainerSpec, sources: PackageSources): InstallPlan | undefined {
  if (spec.packages.length === 0 || spec.runtime === 'custom') return undefined;
  const mounts: ExtraMount[] = [];
  const env: Record<string, string> = {};
  const mount = (hostPath: string, containerPath: string): string => {
    mounts.push({ hostPath, containerPath, writable: false });
    return containerPath;
  };
  if (sources.caFile) {
    mount(sources.caFile, CA_PATH);
    Object.assign(env, { PIP_CERT: CA_PATH, REQUESTS_CA_BUNDLE: CA_PATH, SSL_CERT_FILE: CA_PATH, NODE_EXTRA_CA_CERTS: CA_PATH, npm_config_cafile: CA_PATH });
  }
  refuseUnreachable(spec, sources);
  // Each local package file is mounted alone, so that no other host file becomes visible.
  const targets = spec.packages.map((pkg, i) => (isAbsolute(pkg) ? mount(pkg, `${SOURCES_DIR}/local${i}/${basename(pkg)}`) : pkg));

  if (spec.runtime === 'python') {
    const args = ['python3', '-m', 'pip', 'install', '--no-cache-dir', '--disable-pip-version-check', '--no-input', '--no-warn-script-location', '--target', PYTHON_PACKAGES_DIR];
    if (sources.pipIndexUrl) {
      const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(sources.pipIndexUrl)
        ? sources.pipIndexUrl
        : `file://${mount(sources.pipIndexUrl, `${SOURCES_DIR}/pip-index`)}`;
      args.push('--index-url', url);
    }
    if (sources.pipFindLinks) {
      args.push('--find-links', mount(sources.pipFindLinks, `${SOURCES_DIR}/pip-find-links`));
      if (!sources.pipIndexUrl) args.push('--no-index');
    }
    return { mounts, env, argv: [...args, '--', ...targets], installer: 'pip' };
  }
  Object.assign(env, { npm_config_cache: '/tmp/.npm', npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' });
  if (sources.npmRegistry) env.npm_config_registry = sources.npmRegistry;
  const args = ['npm', 'install', '--prefix', NODE_PACKAGES_DIR, '--no-save', '--no-package-lock', '--loglevel', 'warn'];
  return { mounts, env, argv: [...args, '--', ...targets], installer: 'npm' };
}

/**
 * Without a network the container can reach no index or registry: say so at once rather than
 * after the installer's retries (npm spends over a minute on them).
 */
function refuseUnreachable(spec: ContainerSpec, sources: PackageSources): void {
  if (spec.network !== 'none') return;
  const local = spec.runtime === 'python' ? Boolean(sources.pipFindLinks || (sources.pipIndexUrl && !/^https?:/i.test(sources.pipIndexUrl))) : false;
  const remote = spec.packages.filter((p) => !isAbsolute(p));
  if (local || remote.length === 0) return;
  const where = spec.runtime === 'python' ? (sources.pipIndexUrl ?? 'PyPI') : (sources.npmRegistry ?? 'the npm registry');
  throw new ValidationError(
    'config.packages',
    `${remote.join(', ')} must come from ${where}, but the network mode is NONE: ` +
      `set network_mode to BRIDGE, configure a local ${spec.runtime === 'python' ? 'pip index' : 'package file (.tgz)'}, or use a custom image`,
  );
}

/** Runs the install in the container; a failure carries the installer's own output. */
export async function installPackages(
  container: Docker.Container,
  spec: ContainerSpec,
  plan: InstallPlan,
  onLog?: (line: string) => void,
): Promise<void> {
  let partial = '';
  const result = await runExec(container, {
    argv: plan.argv,
    env: plan.env,
    user: SANDBOX_USER,
    maxOutputBytes: INSTALL_OUTPUT_BYTES,
    timeoutMs: INSTALL_TIMEOUT_MS,
    kill: () => container.kill().then(() => undefined),
    onOutput: (_kind, chunk) => {
      if (!onLog) return;
      const lines = (partial + chunk.toString('utf8')).split(/\r?\n/);
      partial = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) onLog(line);
    },
  });
  if (partial.trim()) onLog?.(partial);
  if (result.exitCode !== 0) {
    const output = Buffer.concat([result.stderr, result.stdout]).toString('utf8');
    throw new PackageInstallError(
      plan.installer,
      spec.packages,
      result.exitCode,
      result.timedOut ? `timed out after ${INSTALL_TIMEOUT_MS / 60000} minutes\n${output}` : output,
    );
  }
}
