// The runc rule: a version judged against the advisories of advisories.ts.
import { RUNC_ADVISORIES, type RuncAdvisory } from './advisories';

export interface Version {
  major: number;
  minor: number;
  patch: number;
  /** Pre-release identifiers ('rc.2' → ['rc', 2]); empty for a release. */
  pre: (string | number)[];
}

/**
 * Reads '1.1.5', 'v1.1.12', '1.2.0-rc.1', '1.0.0-rc93', '1.1.5+ds1' (Debian) and
 * '1.1.12-0ubuntu2~22.04.1' (a distribution revision, not a pre-release: only suffixes
 * starting rc/alpha/beta/pre are taken for one, else Ubuntu's fixed 1.1.12 would look older).
 */
export function parseVersion(raw: string): Version | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.~-]+))?(?:[+~].*)?$/.exec(raw.trim());
  if (!m) return undefined;
  const suffix = m[4] ?? '';
  const pre = /^(rc|alpha|beta|pre)/i.test(suffix)
    ? (suffix.match(/\d+|[a-z]+/gi) ?? []).map((t) => (/^\d+$/.test(t) ? Number(t) : t.toLowerCase()))
    : [];
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), pre };
}

export function compareVersions(a: Version, b: Version): number {
  const core = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (core) return core;
  // A pre-release comes before its release.
  if (!a.pre.length || !b.pre.length) return b.pre.length - a.pre.length;
  for (let i = 0; i < Math.max(a.pre.length, b.pre.length); i++) {
    const x = a.pre[i];
    const y = b.pre[i];
    if (x === undefined || y === undefined) return x === undefined ? -1 : 1;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return 0;
}

/** A version of the table, which advisories.test.ts proves readable. */
const known = (raw: string): Version => parseVersion(raw) ?? { major: 0, minor: 0, patch: 0, pre: [] };
const seriesOf = (v: Version): string => `${v.major}.${v.minor}`;

/** Whether `version` predates the fix of `advisory`. */
function isAffected(version: Version, advisory: RuncAdvisory): boolean {
  const fixes = advisory.fixedIn.map(known);
  const own = fixes.find((f) => seriesOf(f) === seriesOf(version));
  if (own) return compareVersions(version, own) < 0;
  // A series with no fix of its own: affected if older than a fixed series (it got none).
  return fixes.some((f) => compareVersions(version, f) < 0);
}

const HIGH = RUNC_ADVISORIES.filter((a) => a.severity === 'high');

/** The fixed releases that no high-severity advisory applies to, oldest first: the upgrade targets. */
const TARGETS = [...new Set(HIGH.flatMap((a) => a.fixedIn))]
  .map((raw) => ({ raw, version: known(raw) }))
  .filter((t) => !HIGH.some((a) => isAffected(t.version, a)))
  .sort((a, b) => compareVersions(a.version, b.version));

/** For a runc whose version is unknown: which releases are safe. */
export const SAFE_RUNC = `${TARGETS.map((t) => t.raw).join(', ')} or later`;

export interface RuncAssessment {
  status: 'ok' | 'warn';
  /** The high-severity advisories the version predates (what the warning is for). */
  advisories: string[];
  /** The low-severity ones: named in the detail, no warning. */
  lowSeverity: string[];
  detail: string;
  fix?: string;
}

const joinAnd = (items: readonly string[]): string => (items.length > 1 ? `${items.slice(0, -1).join(', ')} and ${items.at(-1)}` : (items[0] ?? ''));

function describe(a: RuncAdvisory): string {
  const month = new Date(`${a.published}T00:00:00Z`).toLocaleString('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' });
  return `${a.cves.join(', ')} (${a.nickname ? `"${a.nickname}", ` : ''}${month}, fixed in ${joinAnd(a.fixedIn)}: ${a.impact})`;
}

/** Judges a runc version against the container escapes it is known to be open to. */
export function assessRunc(raw: string): RuncAssessment {
  const version = parseVersion(raw);
  if (!version) {
    return {
      status: 'warn',
      advisories: [],
      lowSeverity: [],
      detail: `cannot read the version '${raw}', so it cannot be checked against known container escapes`,
      fix: `make sure runc is ${SAFE_RUNC} (\`runc --version\` on the engine host)`,
    };
  }
  const applying = RUNC_ADVISORIES.filter((a) => isAffected(version, a));
  const high = applying.filter((a) => a.severity === 'high');
  const low = applying.filter((a) => a.severity === 'low');
  const result = { advisories: high.flatMap((a) => a.cves), lowSeverity: low.flatMap((a) => a.cves) };
  if (!high.length) {
    const detail = 'no known high-severity container-escape advisory applies';
    return { status: 'ok', ...result, detail: low.length ? `${detail}; it predates the fix for low-severity ${low.map(describe).join(' and ')}` : detail };
  }

  const own = TARGETS.find((t) => seriesOf(t.version) === seriesOf(version) && compareVersions(t.version, version) > 0);
  const released = TARGETS.filter((t) => !t.version.pre.length).map((t) => t.raw);
  const newest = released.at(-1);
  const target = own ? own.raw : newest;
  const alternatives =
    !own && released.length > 1 ? ` (or ${released.slice(0, -1).join(' or ')}; the ${seriesOf(version)} series has no release with every fix)` : '';
  // Distributions patch old versions in place: Debian's runc 1.1.5+ds1-1+deb12u1 looks older than it may be.
  const distro = /[+~]|-\d/.test(raw) ? " A distribution's build may have the fixes backported under the old number: check its security tracker." : '';
  return {
    status: 'warn',
    ...result,
    detail: `predates the fixes for ${high.map(describe).join(' and ')}${low.length ? `, and for low-severity ${joinAnd(result.lowSeverity)}` : ''}.${distro}`,
    fix:
      `upgrade runc to ${target} or later${alternatives}: with Docker's packages update containerd.io (apt/dnf upgrade), ` +
      "with a distribution's docker.io update its runc package, with Docker Desktop update Docker Desktop",
  };
}
