// The advisories table is data kept by hand: it must be well formed, and reviewed again within
// six months (this test starts failing then, on purpose: see advisories.ts for how to review).
import { describe, expect, it } from 'vitest';
import { RUNC_ADVISORIES, RUNC_ADVISORIES_REVIEWED_AT } from './advisories';
import { compareVersions, parseVersion } from './runc';

const day = (iso: string): Date => new Date(`${iso}T00:00:00Z`);

/** Whether a review made on `reviewedAt` is older than six months on `now`. */
function reviewOverdue(reviewedAt: string, now: Date): boolean {
  const due = day(reviewedAt);
  due.setUTCMonth(due.getUTCMonth() + 6);
  return now >= due;
}

describe('the runc advisories', () => {
  it('were reviewed less than six months ago', () => {
    expect(reviewOverdue(RUNC_ADVISORIES_REVIEWED_AT, new Date()), `the runc advisories were last reviewed ${RUNC_ADVISORIES_REVIEWED_AT}: review them (advisories.ts)`).toBe(false);
    expect(day(RUNC_ADVISORIES_REVIEWED_AT).getTime(), 'a review date in the future').toBeLessThanOrEqual(Date.now());
  });

  it('count a review as overdue from six months on', () => {
    expect(reviewOverdue('2026-12-04', day('2027-06-03'))).toBe(false);
    expect(reviewOverdue('2026-12-04', day('2027-06-04'))).toBe(true);
  });

  it('are well formed: CVE ids once each, real dates, readable versions, one fix per series', () => {
    const cves = RUNC_ADVISORIES.flatMap((a) => a.cves);
    expect(new Set(cves).size).toBe(cves.length);
    for (const a of RUNC_ADVISORIES) {
      for (const cve of a.cves) expect(cve).toMatch(/^CVE-\d{4}-\d{4,}$/);
      expect(a.published).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(day(a.published).toISOString().slice(0, 10), a.published).toBe(a.published);
      expect(a.published <= RUNC_ADVISORIES_REVIEWED_AT).toBe(true);
      const fixes = a.fixedIn.map((raw) => parseVersion(raw) ?? expect.unreachable(`${a.cves[0]}: cannot read '${raw}'`));
      const series = fixes.map((v) => `${v.major}.${v.minor}`);
      expect(new Set(series).size, `${a.cves[0]}: one fix per series`).toBe(series.length);
      for (let i = 1; i < fixes.length; i++) expect(compareVersions(fixes[i - 1]!, fixes[i]!), `${a.cves[0]}: oldest first`).toBeLessThan(0);
    }
  });
});
