// The main view in both themes: it follows the system's light/dark setting until the user
// picks one with the toggle, and the choice is kept. Screenshots of each are saved.
import { expect, test } from './fixtures';
import { clickRun, openApp, saveScreenshot, typeProgram, waitForRunEnd } from './helpers';

test('the main view in the light and the dark theme, switched with the toggle', async ({ page, loom }) => {
  await openApp(page, loom, 'light');
  const html = page.locator('html');
  await expect(html).toHaveAttribute('data-theme', 'light');

  await typeProgram(page, ['import sys', "print('Hello from Docker!')", "print('a warning on stderr', file=sys.stderr)"].join('\n'));
  await clickRun(page);
  expect(await waitForRunEnd(page)).toBe('ok');
  await saveScreenshot(page, 'workspace-light');
  const lightBackground = await page.locator('body').evaluate((b) => getComputedStyle(b).backgroundColor);

  const toggle = page.getByTestId('theme-toggle');
  await expect(toggle).toHaveAccessibleName('Switch to dark theme');
  await toggle.click();
  await expect(html).toHaveAttribute('data-theme', 'dark');
  await expect(toggle).toHaveAccessibleName('Switch to light theme');
  const darkBackground = await page.locator('body').evaluate((b) => getComputedStyle(b).backgroundColor);
  expect(darkBackground).not.toBe(lightBackground);
  // Monaco follows the app's theme.
  await expect(page.locator('[data-testid="editor"] .monaco-editor')).toHaveClass(/vs-dark|hc-black/);
  await saveScreenshot(page, 'workspace-dark');

  await page.getByTestId('view-pool').click();
  await expect(page.getByTestId('pool-page')).toBeVisible();
  await expect(page.getByTestId('pool-row').first()).toBeVisible({ timeout: 15_000 });
  await saveScreenshot(page, 'pool-dark');
  await page.getByTestId('view-workspace').click();

  // The user's choice outlives a reload, even against the system's setting.
  await page.reload();
  await expect(page.getByTestId('engine-status')).toHaveAttribute('data-state', 'ok', { timeout: 20_000 });
  await expect(html).toHaveAttribute('data-theme', 'dark');
});

test('without a choice of its own the window follows the system theme', async ({ page, loom }) => {
  await openApp(page, loom, 'dark');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await page.emulateMedia({ colorScheme: 'light' });
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'light');
});
