// Run history lives in the host's SQLite file, not in the page: after the host stops and a new
// one starts on the same file (a restart of the app), the run is listed and opens with its output.
import { expect, test } from './fixtures';
import { clickRun, openApp, outputPane, saveScreenshot, typeProgram, waitForRunEnd } from './helpers';

test('a run is in the history after the host restarts, and opening it shows its output again', async ({ page, loom }) => {
  await openApp(page, loom);
  const marker = `kept across restarts ${Date.now()}`;
  await typeProgram(page, ['import sys', `print('${marker}')`, "print('and its stderr', file=sys.stderr)"].join('\n'));
  const runId = await clickRun(page);
  expect(await waitForRunEnd(page)).toBe('ok');
  const item = page.locator(`[data-testid="history-item"][data-run-id="${runId}"]`);
  await expect(item).toHaveAttribute('data-status', 'ok');
  const oldUrl = loom.url;

  // Stop everything (the service removes its containers) and start again on the same history file.
  await loom.restart();
  expect(loom.url).not.toBe(oldUrl);
  // A new host means a new port and a new token: the page opens the new address.
  await openApp(page, loom);

  await expect(item).toBeVisible();
  await expect(item).toHaveAttribute('data-status', 'ok');
  await expect(item).toContainText(`print('${marker}')`);
  await expect(item.getByTestId('history-start-badge')).toHaveText(/^(cold|warm)$/);
  // Nothing is open yet in this fresh page.
  await expect(outputPane(page)).not.toHaveAttribute('data-run-id', /.+/);

  await item.locator('.history-open').click();
  await expect(item).toHaveClass(/selected/);
  await expect(outputPane(page)).toHaveAttribute('data-run-id', runId);
  const lines = page.getByTestId('output-lines');
  await expect(lines.getByTestId('stdout-segment').filter({ hasText: marker })).toBeVisible();
  await expect(lines.getByTestId('stderr-segment').filter({ hasText: 'and its stderr' })).toBeVisible();
  await expect(page.getByTestId('exit-code')).toHaveAttribute('data-exit-code', '0');
  await expect(page.getByTestId('duration')).toHaveText(/\d/);
  // Its trace came back too.
  await page.getByTestId('tab-trace').click();
  await expect(page.getByTestId('trace-row-name').getByText('docker.execute', { exact: true })).toBeVisible();
  await page.getByTestId('tab-output').click();
  await saveScreenshot(page, 'history-after-restart');
});
