// Typing a program into the editor and running it with Ctrl+Enter: its output streams in while
// it runs, and the run ends with its exit code, duration and a cold or warm start.
import { expect, test } from './fixtures';
import { clickRun, openApp, outputPane, runWithShortcut, saveScreenshot, typeProgram, waitForRunEnd } from './helpers';

test('a typed program runs with Ctrl+Enter and its output streams in before it ends', async ({ page, loom }) => {
  await openApp(page, loom);
  await expect(page.getByTestId('runtime-python')).toHaveAttribute('aria-checked', 'true');

  await typeProgram(page, ['import time', "print('first line', flush=True)", 'time.sleep(3)', "print('second line')"].join('\n'));
  await runWithShortcut(page);

  const lines = page.getByTestId('output-lines');
  // Streamed: the first line is on screen while the run is still going (3 s before it ends) and
  // before the second.
  await expect(lines.getByTestId('stdout-segment').filter({ hasText: 'first line' })).toBeVisible({ timeout: 30_000 });
  await expect(outputPane(page)).toHaveAttribute('data-status', 'running');
  await expect(lines).not.toContainText('second line');
  await expect(page.getByTestId('elapsed')).toBeVisible();

  expect(await waitForRunEnd(page)).toBe('ok');
  await expect(lines.getByTestId('stdout-segment').filter({ hasText: 'second line' })).toBeVisible();
  const exit = page.getByTestId('exit-code');
  await expect(exit).toHaveAttribute('data-exit-code', '0');
  await expect(exit).toHaveText('exit 0');
  await expect(page.getByTestId('duration')).toHaveText(/\d/);
  await expect(page.getByTestId('start-badge')).toHaveText(/^(cold|warm)$/);
  await expect(page.getByTestId('history-item').first()).toHaveAttribute('data-status', 'ok');
  await saveScreenshot(page, 'run-output');

  // The same program again reuses the pooled container: a warm start.
  await runWithShortcut(page);
  expect(await waitForRunEnd(page)).toBe('ok');
  await expect(page.getByTestId('start-badge')).toHaveText('warm');
  await expect(page.getByTestId('start-badge')).toHaveAttribute('data-start', 'warm');
});

test('stderr is shown apart from stdout, and a failing exit code is shown as such', async ({ page, loom }) => {
  await openApp(page, loom);
  await typeProgram(page, ['import sys', "print('to stdout')", "print('to stderr', file=sys.stderr)", 'sys.exit(3)'].join('\n'));
  await runWithShortcut(page);
  expect(await waitForRunEnd(page)).toBe('failed');
  const lines = page.getByTestId('output-lines');
  await expect(lines.getByTestId('stdout-segment').filter({ hasText: 'to stdout' })).toBeVisible();
  await expect(lines.getByTestId('stderr-segment').filter({ hasText: 'to stderr' })).toBeVisible();
  await expect(page.getByTestId('exit-code')).toHaveAttribute('data-exit-code', '3');
});

test('switched to Node, the editor is in JavaScript mode and a typed JS program streams its output', async ({ page, loom }) => {
  await openApp(page, loom);
  await page.getByTestId('runtime-node').click();
  await expect(page.getByTestId('runtime-node')).toHaveAttribute('aria-checked', 'true');
  await expect(page.getByTestId('runtime-python')).toHaveAttribute('aria-checked', 'false');
  // Monaco's own record of the model's language, and what the header and form derive from it.
  await expect(page.locator('[data-testid="editor"] [data-mode-id]')).toHaveAttribute('data-mode-id', 'javascript');
  await expect(page.locator('.editor-file')).toHaveText('main.js');
  await expect(page.locator('.editor-argv code')).toHaveText('node -e');
  await expect(page.getByTestId('field-image')).toHaveAttribute('placeholder', 'node:20-slim');

  await typeProgram(page, ["console.log('node ' + process.version + ' starts');", "setTimeout(() => console.log('after the pause'), 3000);"].join('\n'));
  await expect(page.locator('[data-testid="editor"] .view-lines')).toContainText("setTimeout(() => console.log('after the pause'), 3000);");
  await runWithShortcut(page);

  const lines = page.getByTestId('output-lines');
  // Streamed: Node's first line is on screen while the timer still holds the run open.
  await expect(lines.getByTestId('stdout-segment').filter({ hasText: /^node v20\.\d+\.\d+ starts$/ })).toBeVisible({ timeout: 30_000 });
  await expect(outputPane(page)).toHaveAttribute('data-status', 'running');
  await expect(lines).not.toContainText('after the pause');

  expect(await waitForRunEnd(page)).toBe('ok');
  await expect(lines.getByTestId('stdout-segment').filter({ hasText: 'after the pause' })).toBeVisible();
  await expect(page.getByTestId('exit-code')).toHaveAttribute('data-exit-code', '0');
  const item = page.getByTestId('history-item').first();
  await expect(item).toHaveAttribute('data-status', 'ok');
  await expect(item.locator('.history-runtime')).toHaveText('js');
});

test('text typed into the Stdin tab is what the program reads', async ({ page, loom }) => {
  await openApp(page, loom);
  await typeProgram(page, ['import sys', 'data = sys.stdin.read()', "print('read', len(data.splitlines()), 'lines:', data.upper().replace(chr(10), ' | '))"].join('\n'));
  await page.getByTestId('tab-stdin').click();
  const stdin = page.getByTestId('stdin-input');
  await stdin.click();
  await stdin.pressSequentially('{"n": 41}\nsecond line');
  await expect(stdin).toHaveValue('{"n": 41}\nsecond line');
  await expect(page.locator('.stdin-hint')).toContainText('21 bytes');
  // The tab says it has input even when another tab is open.
  await expect(page.getByTestId('tab-stdin').getByLabel('(has input)')).toBeVisible();
  await saveScreenshot(page, 'stdin');

  // Run goes back to the output.
  await clickRun(page);
  await expect(page.getByTestId('tab-output')).toHaveAttribute('aria-selected', 'true');
  expect(await waitForRunEnd(page)).toBe('ok');
  await expect(page.getByTestId('output-lines')).toContainText('read 2 lines: {"N": 41} | SECOND LINE');
});

test('a program printing more than the 4 MB output limit shows as truncated, and its output still streams in whole', async ({ page, loom }) => {
  await openApp(page, loom);
  // 50,000 lines of 101 bytes: 5 MB, more than the response keeps of a stream by default.
  await typeProgram(page, ["for i in range(50000): print(str(i).zfill(6), 'x' * 93)", "print('the end')"].join('\n'));
  const runId = await clickRun(page);
  expect(await waitForRunEnd(page)).toBe('ok');
  const badge = page.getByTestId('truncated-badge');
  await expect(badge).toHaveText('truncated');
  await expect(badge).toHaveAttribute('title', 'The stored response kept only the first part of stdout');
  await expect(page.getByTestId('exit-code')).toHaveAttribute('data-exit-code', '0');
  // What streamed live is not cut: the last lines are on screen.
  await expect(page.getByTestId('output-lines')).toContainText('the end');
  // The stored response is the one cut, and it says so.
  const record = await loom.service.getRun(runId);
  expect(record?.response?.truncated).toBe(true);
  expect(record?.response?.stdoutTruncated).toBe(true);
  expect(record?.response?.stderrTruncated ?? false).toBe(false);
});
