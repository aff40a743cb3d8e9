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

test('Run again on a past run starts a new run of the same code, listed in the history with its own output', async ({ page, loom }) => {
  await openApp(page, loom);
  await typeProgram(page, ['import uuid', "print('fresh', uuid.uuid4().hex)"].join('\n'));
  const firstId = await clickRun(page);
  expect(await waitForRunEnd(page)).toBe('ok');
  const lines = page.getByTestId('output-lines');
  const firstOutput = (await lines.getByTestId('stdout-segment').filter({ hasText: /^fresh [0-9a-f]{32}$/ }).textContent()) ?? '';
  expect(firstOutput).toMatch(/^fresh [0-9a-f]{32}$/);

  // The editor moves on to other code: Run again takes the past run's, not the editor's.
  await typeProgram(page, "print('something else')");
  const items = page.getByTestId('history-item');
  const count = await items.count();
  const first = page.locator(`[data-testid="history-item"][data-run-id="${firstId}"]`);
  await first.hover();
  await first.getByTestId('history-rerun').click();

  await expect(items).toHaveCount(count + 1);
  // The new run is listed first, under the same title, and shown.
  const newest = items.first();
  await expect(newest).not.toHaveAttribute('data-run-id', firstId);
  const rerunId = (await newest.getAttribute('data-run-id')) ?? '';
  await expect(outputPane(page)).toHaveAttribute('data-run-id', rerunId);
  expect(await waitForRunEnd(page)).toBe('ok');
  await expect(newest).toHaveAttribute('data-status', 'ok');
  await expect(newest.locator('.history-title')).toHaveText((await first.locator('.history-title').textContent()) ?? '');
  await expect(newest.getByTestId('history-start-badge')).toHaveText('warm');

  // Fresh output: a new uuid, not the first run's output replayed.
  const rerunSegment = lines.getByTestId('stdout-segment').filter({ hasText: /^fresh [0-9a-f]{32}$/ });
  await expect(rerunSegment).toHaveCount(1);
  expect(await rerunSegment.textContent()).not.toBe(firstOutput);
  // The past run's code came back into the editor.
  await expect(page.locator('[data-testid="editor"] .view-lines')).toContainText('uuid.uuid4().hex');
  // And the engine ran exactly the same request.
  const [before, after] = await Promise.all([loom.service.getRun(firstId), loom.service.getRun(rerunId)]);
  expect(after?.request.command).toEqual(before?.request.command);
  expect(after?.request.command?.at(-1)).toBe("import uuid\nprint('fresh', uuid.uuid4().hex)");
  // The first run is still there, unchanged.
  await expect(first).toHaveAttribute('data-status', 'ok');
  expect(before?.response?.stdout).not.toBe(after?.response?.stdout);
});
