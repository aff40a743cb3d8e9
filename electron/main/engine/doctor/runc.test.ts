// The runc rule, a pure function of the version and the advisories table. The expected CVEs are
// written out here rather than taken from the table, so that a wrong table entry shows up.
import { describe, expect, it } from 'vitest';
import { assessRunc, compareVersions, parseVersion } from './runc';

const LEAKY_VESSELS = ['CVE-2024-21626'];
const NOVEMBER_2025 = ['CVE-2025-31133', 'CVE-2025-52565', 'CVE-2025-52881'];
const LOW_2024 = ['CVE-2024-45310'];
const LOW_2026 = ['CVE-2026-41579'];

describe('assessRunc', () => {
  // [version, high-severity advisories (a warning), low-severity ones (named only)]
  const cases: [string, string[], string[]][] = [
    ['1.1.5', [...LEAKY_VESSELS, ...NOVEMBER_2025], [...LOW_2024, ...LOW_2026]],
    ['1.1.5+ds1', [...LEAKY_VESSELS, ...NOVEMBER_2025], [...LOW_2024, ...LOW_2026]],
    ['1.1.11', [...LEAKY_VESSELS, ...NOVEMBER_2025], [...LOW_2024, ...LOW_2026]],
    ['1.0.0-rc93', [...LEAKY_VESSELS, ...NOVEMBER_2025], [...LOW_2024, ...LOW_2026]],
    ['v1.1.12', NOVEMBER_2025, [...LOW_2024, ...LOW_2026]],
    // A distribution revision, not a pre-release: Ubuntu's 1.1.12 has the Leaky Vessels fix.
    ['1.1.12-0ubuntu2~22.04.1', NOVEMBER_2025, [...LOW_2024, ...LOW_2026]],
    ['1.1.15', NOVEMBER_2025, LOW_2026],
    ['1.2.0-rc.1', NOVEMBER_2025, [...LOW_2024, ...LOW_2026]],
    ['1.2.7', NOVEMBER_2025, LOW_2026],
    ['1.2.8', [], LOW_2026],
    // The 1.2 series got no fix for the 2026 advisory.
    ['1.2.9', [], LOW_2026],
    ['1.3.0', NOVEMBER_2025, LOW_2026],
    ['1.3.2', NOVEMBER_2025, LOW_2026],
    ['1.3.3', [], LOW_2026],
    ['v1.3.6', [], []],
    ['1.4.0-rc.1', NOVEMBER_2025, LOW_2026],
    // Released in October 2025, before the fixes (which came with 1.4.0-rc.3).
    ['1.4.0-rc.2', NOVEMBER_2025, LOW_2026],
    ['1.4.0-rc.3', [], LOW_2026],
    ['1.4.0', [], LOW_2026],
    ['1.4.3', [], []],
    ['1.5.0-rc.2', [], LOW_2026],
    ['1.5.0', [], []],
    ['1.6.1', [], []],
  ];
  it.each(cases)('%s → %j, low %j', (version, advisories, low) => {
    const a = assessRunc(version);
    expect(a.advisories).toEqual(advisories);
    expect(a.lowSeverity).toEqual(low);
    expect(a.status).toBe(advisories.length ? 'warn' : 'ok');
    for (const cve of [...advisories, ...low]) expect(a.detail).toContain(cve);
  });

  it('says what each advisory is and which releases fix it', () => {
    const { detail } = assessRunc('1.1.5');
    expect(detail).toContain('CVE-2024-21626 ("Leaky Vessels", January 2024, fixed in 1.1.12: a leaked host file descriptor');
    expect(detail).toContain('CVE-2025-31133, CVE-2025-52565, CVE-2025-52881 (November 2025, fixed in 1.2.8, 1.3.3 and 1.4.0-rc.3: ');
    expect(assessRunc('1.3.3').detail).toBe(
      'no known high-severity container-escape advisory applies; it predates the fix for low-severity CVE-2026-41579 ' +
        '(June 2026, fixed in 1.3.6, 1.4.3 and 1.5.0-rc.3: a malicious image with a /dev symlink gets limited write access to the host filesystem)',
    );
  });

  it('says what to upgrade to, per series', () => {
    expect(assessRunc('1.1.5').fix).toContain('upgrade runc to 1.3.3 or later (or 1.2.8; the 1.1 series has no release with every fix)');
    expect(assessRunc('1.2.0-rc.1').fix).toContain('upgrade runc to 1.2.8 or later:');
    expect(assessRunc('1.3.2').fix).toContain('upgrade runc to 1.3.3 or later:');
    expect(assessRunc('1.4.0-rc.2').fix).toContain('upgrade runc to 1.4.0-rc.3 or later:');
    expect(assessRunc('1.3.3').fix).toBeUndefined();
  });

  it('mentions backports for distribution builds only', () => {
    expect(assessRunc('1.1.5+ds1').detail).toContain('backported');
    expect(assessRunc('1.1.5').detail).not.toContain('backported');
  });

  it('warns on a version it cannot read, naming the safe releases', () => {
    const a = assessRunc('unknown');
    expect(a.status).toBe('warn');
    expect(a.detail).toContain("cannot read the version 'unknown'");
    expect(a.fix).toContain('make sure runc is 1.2.8, 1.3.3, 1.4.0-rc.3 or later');
  });
});

describe('compareVersions', () => {
  it('orders pre-releases before their release', () => {
    const order = ['1.0.0-rc93', '1.1.5', '1.2.0-rc.1', '1.2.0-rc.2', '1.2.0', '1.4.0-rc.1', '1.4.0-rc.10', '1.4.0'];
    const parsed = order.map((s) => parseVersion(s) ?? expect.unreachable(s));
    for (let i = 1; i < parsed.length; i++) expect(compareVersions(parsed[i - 1]!, parsed[i]!)).toBeLessThan(0);
    expect(compareVersions(parseVersion('1.1.5+ds1')!, parseVersion('v1.1.5')!)).toBe(0);
  });
});
