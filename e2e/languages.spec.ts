// A compiled language in the window: switched to Go, a program that does not compile is reported
// as a compile error (not as the program failing), and once fixed it runs, its compile and its
// own nested spans in the Trace tab. Needs the Go image (`npm run images -- go`).
import type { Locator, Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { appendLines, goToEndOfProgram, openApp, runWithShortcut, saveScreenshot, waitForRunEnd } from './helpers';

function row(page: Page, name: string): Locator {
  return page.getByTestId('trace-row').filter({ has: page.getByTestId('trace-row-name').getByText(name, { exact: true }) });
}

const level = async (r: Locator): Promise<number> => Number(await r.getAttribute('aria-level'));

test('switched to Go, a compile error is reported as such; fixed, the program runs and shows its spans', async ({ page, loom }) => {
  test.setTimeout(300_000);
  await openApp(page, loom);
  await page.getByTestId('runtime-go').click();
  await expect(page.getByTestId('runtime-go')).toHaveAttribute('aria-checked', 'true');
  await expect(page.locator('[data-testid="editor"] [data-mode-id]')).toHaveAttribute('data-mode-id', 'go');
  await expect(page.locator('.editor-file')).toHaveText('main.go');
  await expect(page.getByTestId('field-image')).toHaveAttribute('placeholder', 'loom-go:1.19');

  // The Go example (nested spans), then a line that does not compile, typed at its end.
  await page.getByTestId('sidebar-tab-examples').click();
  await page.locator('[data-testid="example-item"][data-example-id="go-spans"]').click();
  await expect(page.locator('[data-testid="editor"] .view-lines')).toContainText('LOOM_SPAN_ID');
  await goToEndOfProgram(page);
  await appendLines(page, ['', 'var broken int = "not a number"']);

  await runWithShortcut(page);
  expect(await waitForRunEnd(page, 240_000)).toBe('compile_error');
  await expect(page.getByTestId('compile-error-badge')).toBeVisible();
  const output = page.getByTestId('output-lines');
  await expect(output.getByTestId('stderr-segment').filter({ hasText: /main\.go:\d+:\d+: cannot use "not a number"/ })).toBeVisible();
  await expect(output).not.toContainText('sorted:');
  await page.getByTestId('sidebar-tab-history').click();
  await expect(page.getByTestId('history-item').first()).toHaveAttribute('data-status', 'compile_error');
  await saveScreenshot(page, 'go-compile-error');

  // Fixed: the broken line is removed as a person would (select it, delete it).
  await goToEndOfProgram(page);
  await page.keyboard.press('Shift+Home');
  await page.keyboard.press('Delete');
  await expect(page.locator('[data-testid="editor"] .view-lines')).not.toContainText('broken');

  await runWithShortcut(page);
  expect(await waitForRunEnd(page, 240_000)).toBe('ok');
  await expect(output.getByTestId('stdout-segment').filter({ hasText: 'sorted: [1 2 3]' })).toBeVisible();
  await expect(page.getByTestId('compile-error-badge')).toHaveCount(0);
  await expect(page.getByTestId('exit-code')).toHaveAttribute('data-exit-code', '0');

  await page.getByTestId('tab-trace').click();
  await expect(page.getByTestId('trace-tree')).toBeVisible();
  const execute = row(page, 'docker.execute');
  const compile = row(page, 'docker.compile');
  const processRow = row(page, 'process');
  const sort = row(page, 'sort');
  for (const r of [execute, compile, processRow, sort]) await expect(r).toHaveCount(1);
  expect(await level(compile)).toBe((await level(execute)) + 1);
  expect(await level(processRow)).toBe((await level(execute)) + 1);
  expect(await level(sort)).toBe((await level(processRow)) + 1);
  await saveScreenshot(page, 'go-trace');
});
