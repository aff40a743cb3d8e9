// The runc advisories `loom doctor` judges a runtime against: data, reviewed by hand. A test
// (advisories.test.ts) fails once the review is six months old, so that a new container escape
// cannot go unnoticed for long: read runc's CHANGELOG.md and security advisories since the date
// below, add what is new, and move the date.

/** When the table below was last checked against runc's own record, as YYYY-MM-DD. */
export const RUNC_ADVISORIES_REVIEWED_AT = '2026-12-04';
/** What it was checked against (the newest copy of it that could be read then). */
export const RUNC_ADVISORIES_SOURCE = "runc's CHANGELOG.md on main as of 2026-08-19 (newest release 1.5.0)";

export interface RuncAdvisory {
  /** One advisory, or the advisories fixed together by the same releases. */
  cves: readonly string[];
  /** A name it is known by, if any. */
  nickname?: string;
  /** When the fixed releases came out, as YYYY-MM-DD. */
  published: string;
  /**
   * 'high' makes the runtime check warn. 'low' is only named in its detail: runc's own analysis
   * finds it of no practical consequence, and a warning for it would teach users to skip warnings.
   */
  severity: 'high' | 'low';
  /** What an attacker gets, in a few words. */
  impact: string;
  /**
   * The first release of each series with the fix. A series that is not listed got no fix if it is
   * older than the newest one listed, and never had the flaw if it is newer.
   */
  fixedIn: readonly string[];
}

export const RUNC_ADVISORIES: readonly RuncAdvisory[] = [
  {
    cves: ['CVE-2024-21626'],
    nickname: 'Leaky Vessels',
    published: '2024-01-31',
    severity: 'high',
    impact: 'a leaked host file descriptor lets a container escape onto the host filesystem',
    fixedIn: ['1.1.12'],
  },
  {
    cves: ['CVE-2024-45310'],
    published: '2024-09-03',
    severity: 'low',
    impact: 'a maliciously configured container can create empty files and directories on the host',
    fixedIn: ['1.1.14', '1.2.0-rc.3'],
  },
  {
    cves: ['CVE-2025-31133', 'CVE-2025-52565', 'CVE-2025-52881'],
    published: '2025-11-05',
    severity: 'high',
    impact: 'mount races and a masked-path bypass let a malicious container escape',
    // 1.4.0-rc.2 (October 2025) predates the fixes: they came with 1.4.0-rc.3.
    fixedIn: ['1.2.8', '1.3.3', '1.4.0-rc.3'],
  },
  {
    cves: ['CVE-2026-41579'],
    published: '2026-06-13',
    severity: 'low',
    impact: 'a malicious image with a /dev symlink gets limited write access to the host filesystem',
    // The 1.2 series got no fix.
    fixedIn: ['1.3.6', '1.4.3', '1.5.0-rc.3'],
  },
];
