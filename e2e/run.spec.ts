// Typing a program into the editor and running it with Ctrl+Enter: its output streams in while
// it runs, and the run ends with its exit code, duration and a cold or warm start.
import { expect, test } from './fixtures';
import { openApp, outputPane, runWithShortcut, saveScreenshot, typeProgram, waitForRunEnd } from './helpers';

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
