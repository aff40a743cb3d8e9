// The Trace tab shows a run's spans as a tree: the host's docker.execute with its phases, and
// the program's own spans under it, nested as the program nested them, errors marked.
import type { Locator, Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { appendLines, goToEndOfProgram, openApp, runWithShortcut, saveScreenshot, typeProgram, waitForRunEnd } from './helpers';

/** The tree row of the span with this name. */
function row(page: Page, name: string): Locator {
  return page.getByTestId('trace-row').filter({ has: page.getByTestId('trace-row-name').getByText(name, { exact: true }) });
}

async function level(r: Locator): Promise<number> {
  return Number(await r.getAttribute('aria-level'));
}

/** How far the row's name cell is indented, in pixels: deeper spans sit further right. */
async function indent(r: Locator): Promise<number> {
  return r.locator('.trace-name-cell').evaluate((cell) => parseFloat(getComputedStyle(cell).paddingLeft));
}

test("the guide's Example 1 with a nested span and a failing one shows as a tree", async ({ page, loom }) => {
  await openApp(page, loom);

  // Example 1 from the Examples list, as a user picks it.
  await page.getByTestId('sidebar-tab-examples').click();
  const example = page.locator('[data-testid="example-item"][data-example-id="data-processing"]');
  await expect(example).toContainText('Example 1');
  await expect(page.getByTestId('example-item')).not.toHaveCount(0);
  await saveScreenshot(page, 'examples');
  await example.click();
  await expect(page.locator('[data-testid="editor"] .view-lines')).toContainText('load_data');

  // Then, typed at its end: a span opened inside another (the second context manager of a `with`
  // is entered inside the first), and a span whose block raises.
  await goToEndOfProgram(page);
  await appendLines(page, [
    '',
    "with trace_span('outer_step'), trace_span('nested_step'): print('inside the nested span')",
    "with trace_span('failing_step'): raise RuntimeError('boom')",
  ]);

  await runWithShortcut(page);
  // The uncaught RuntimeError fails the program, after Example 1 itself has run to its end.
  expect(await waitForRunEnd(page)).toBe('failed');
  const output = page.getByTestId('output-lines');
  await expect(output).toContainText('Sum: 15');
  await expect(output).toContainText('inside the nested span');
  await expect(output.getByTestId('stderr-segment').filter({ hasText: 'RuntimeError: boom' })).toBeVisible();

  await page.getByTestId('tab-trace').click();
  // Give the results panel room, as a user would: drag its divider up.
  const divider = page.getByRole('separator', { name: 'Resize results panel' });
  const before = Number(await divider.getAttribute('aria-valuenow'));
  const box = await divider.boundingBox();
  if (!box) throw new Error('the results panel divider is not on screen');
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2, box.y - 200, { steps: 5 });
  await page.mouse.up();
  expect(Number(await divider.getAttribute('aria-valuenow'))).toBeGreaterThan(before);
  await expect(page.getByTestId('trace-tree')).toBeVisible();
  const execute = row(page, 'docker.execute');
  const load = row(page, 'load_data');
  const processData = row(page, 'process_data');
  const outer = row(page, 'outer_step');
  const nested = row(page, 'nested_step');
  const failing = row(page, 'failing_step');
  for (const r of [execute, load, processData, row(page, 'save_results'), outer, nested, failing]) await expect(r).toHaveCount(1);

  // docker.execute is the root; the program's spans are under it; nested_step under outer_step.
  expect(await level(execute)).toBe(1);
  expect(await level(load)).toBeGreaterThan(1);
  expect(await level(processData)).toBe(await level(load));
  expect(await level(outer)).toBe(await level(load));
  expect(await level(nested)).toBe((await level(outer)) + 1);
  await expect(outer).toHaveAttribute('aria-expanded', 'true');
  expect(await indent(load)).toBeGreaterThan(await indent(execute));
  expect(await indent(nested)).toBeGreaterThan(await indent(outer));

  // The span whose block raised is marked, and only it among the program's spans.
  await expect(failing).toHaveAttribute('data-error', 'true');
  await expect(failing).toHaveAttribute('aria-label', /, error$/);
  await expect(nested).not.toHaveAttribute('data-error', 'true');
  await expect(load).not.toHaveAttribute('data-error', 'true');
  await expect(page.getByTestId('trace-error-count')).toHaveText(/^\d+ errors?$/);

  await failing.click();
  await expect(page.getByTestId('span-details')).toBeVisible();
  await expect(page.getByTestId('span-status-message')).toContainText('RuntimeError: boom');
  await saveScreenshot(page, 'trace-tree');

  // Collapsing the parent hides its child.
  await outer.getByTestId('trace-toggle').click();
  await expect(outer).toHaveAttribute('aria-expanded', 'false');
  await expect(nested).toHaveCount(0);
});

test('spans show in the Trace tab while the program runs, each as soon as it ends', async ({ page, loom }) => {
  await openApp(page, loom);
  await typeProgram(
    page,
    [
      'import time',
      'from loom_trace import trace_span',
      "with trace_span('early_step'): print('early', flush=True)",
      'time.sleep(8)',
      "with trace_span('late_step'): print('late')",
    ].join('\n'),
  );
  await runWithShortcut(page);
  await page.getByTestId('tab-trace').click();
  const badges = page.getByTestId('run-badges');

  // The first span is in the tree while the run is still going, and the second is not yet.
  await expect(row(page, 'early_step')).toHaveCount(1, { timeout: 30_000 });
  await expect(badges).toHaveAttribute('data-status', 'running');
  await expect(row(page, 'late_step')).toHaveCount(0);
  await expect(page.getByTestId('tab-trace').locator('.count')).toHaveText(/^[1-9]\d*$/);
  await saveScreenshot(page, 'trace-live');

  // At the end the rest arrives, under the host's docker.execute.
  await expect(badges).toHaveAttribute('data-status', 'ok', { timeout: 60_000 });
  await expect(row(page, 'late_step')).toHaveCount(1);
  await expect(row(page, 'docker.execute')).toHaveCount(1);
  expect(await level(row(page, 'early_step'))).toBeGreaterThan(await level(row(page, 'docker.execute')));
  expect(await level(row(page, 'late_step'))).toBe(await level(row(page, 'early_step')));
});
