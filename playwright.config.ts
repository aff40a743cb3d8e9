// Browser tests of the real window: the built renderer served by the real web host in front of
// the real engine (see e2e/fixtures.ts), driven in Debian's Chromium. Playwright's own browser
// downloads are not used (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1): the machine's Chromium is.
import { existsSync } from 'node:fs';
import { defineConfig } from '@playwright/test';

const chromium = process.env['CHROMIUM_PATH'] || '/usr/bin/chromium';
if (!existsSync(chromium)) {
  throw new Error(
    `Chromium is not installed at ${chromium}: the browser tests drive the machine's Chromium, not a downloaded one.\n` +
      'Install it with `apt-get install -y --no-install-recommends chromium` (Debian), or point CHROMIUM_PATH at a Chromium binary.',
  );
}

/** Where the JSON report goes; .ci/run counts the results from it. */
const E2E_REPORT = process.env['LOOM_E2E_REPORT'] || 'test-results/e2e-report.json';

export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  // One engine and 2 cores: one test at a time, in one worker.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: Boolean(process.env['CI']),
  // Real containers: a cold start, a 1 s program, a timeout and a restart of the host fit well inside.
  timeout: 90_000,
  expect: { timeout: 15_000 },
  // Building the renderer (when out/renderer is missing) happens in a worker fixture.
  reporter: [['list'], ['json', { outputFile: E2E_REPORT }]],
  // Screenshots of the views go to test-results/screenshots (see e2e/helpers.ts); this is for
  // the failure artefacts Playwright makes itself, and is emptied at the start of every run.
  outputDir: 'test-results/artifacts',
  use: {
    browserName: 'chromium',
    viewport: { width: 1440, height: 900 },
    launchOptions: {
      executablePath: chromium,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    },
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    actionTimeout: 15_000,
    navigationTimeout: 30_000,
  },
});
