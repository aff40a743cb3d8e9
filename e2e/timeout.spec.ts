// A timeout set in the form is enforced by the engine and shown as such: a 2 s timeout and an
// endless loop end in a timed-out run within seconds, not after the default 300 s.
import { expect, test } from './fixtures';
import { clickRun, fillField, openApp, saveScreenshot, typeProgram, waitForRunEnd } from './helpers';

test('a 2 s timeout stops an endless loop and the run shows as timed out', async ({ page, loom }) => {
  await openApp(page, loom);
  await fillField(page, 'field-timeout', '2');
  await expect(page.getByTestId('field-timeout-error')).toHaveText('');
  await typeProgram(page, ["print('spinning until the timeout', flush=True)", 'while True: pass'].join('\n'));

  const started = Date.now();
  await clickRun(page);
  await expect(page.getByTestId('output-lines')).toContainText('spinning until the timeout', { timeout: 30_000 });
  await expect(page.getByTestId('timed-out-badge')).toBeVisible({ timeout: 10_000 });
  const seconds = (Date.now() - started) / 1000;
  expect(seconds, 'the timed-out badge appeared this many seconds after Run').toBeLessThan(20);

  expect(await waitForRunEnd(page)).toBe('timed_out');
  await expect(page.getByTestId('timed-out-badge')).toHaveText('timed out');
  await expect(page.getByTestId('run-badges')).toContainText('Timed out');
  await expect(page.getByTestId('cancel-button')).toBeDisabled();
  await expect(page.getByTestId('history-item').first()).toHaveAttribute('data-status', 'timed_out');
  await saveScreenshot(page, 'timeout');
});

test('Cancel stops a running program', async ({ page, loom }) => {
  await openApp(page, loom);
  await typeProgram(page, ["print('waiting to be cancelled', flush=True)", 'while True: pass'].join('\n'));
  await clickRun(page);
  await expect(page.getByTestId('output-lines')).toContainText('waiting to be cancelled', { timeout: 30_000 });
  const cancel = page.getByTestId('cancel-button');
  await expect(cancel).toBeEnabled();
  await cancel.click();
  expect(await waitForRunEnd(page, 20_000)).toBe('cancelled');
  await expect(page.getByTestId('run-badges')).toContainText('Cancelled');
});
