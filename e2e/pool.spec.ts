// The Pool view lists the containers Loom keeps warm, and removing one there removes it from
// the engine: checked against the engine itself, not only the page.
import { expect, test } from './fixtures';
import { clickRun, openApp, saveScreenshot, typeProgram, waitForRunEnd } from './helpers';

test('after a run the Pool view shows its container, and Remove takes it out of the engine', async ({ page, loom, docker }) => {
  await openApp(page, loom);
  await typeProgram(page, "print('leave a warm container behind')");
  const runId = await clickRun(page);
  expect(await waitForRunEnd(page)).toBe('ok');

  // Which container ran it: the run's stored response says.
  const record = await loom.service.getRun(runId);
  const containerId = record?.response?.containerId ?? '';
  expect(containerId, 'the run record names its container').toMatch(/^[0-9a-f]{64}$/);
  const before = await docker.getContainer(containerId).inspect();
  expect(before.State.Running).toBe(true);

  await page.getByTestId('view-pool').click();
  await expect(page.getByTestId('pool-page')).toBeVisible();
  const row = page.locator(`[data-testid="pool-row"][data-container-id="${containerId}"]`);
  await expect(row).toBeVisible({ timeout: 15_000 });
  await expect(row.locator('.pool-id')).toHaveText(containerId.slice(0, 12));
  await expect(row).toHaveAttribute('data-state', 'idle');
  await expect(row).toContainText('python:3.11-slim');
  await expect(row.getByTestId('external-badge')).toHaveCount(0);
  // Live figures arrive with the next refresh.
  await expect(row.locator('.pool-usage').last()).toContainText(/\d/, { timeout: 10_000 });
  await row.scrollIntoViewIfNeeded();
  await saveScreenshot(page, 'pool');

  await row.getByTestId('pool-remove').click();
  await expect(row).toHaveCount(0, { timeout: 20_000 });

  // Gone from the engine, not only from the page.
  await expect
    .poll(
      async () => {
        try {
          await docker.getContainer(containerId).inspect();
          return 'still there';
        } catch (err) {
          return (err as { statusCode?: number }).statusCode === 404 ? 'gone' : String(err);
        }
      },
      { timeout: 15_000 },
    )
    .toBe('gone');

  // And it stays gone: the next refresh of the list does not bring it back.
  await page.waitForTimeout(2500);
  await expect(row).toHaveCount(0);

  // Back to the workspace: the editor kept its program.
  await page.getByTestId('view-workspace').click();
  await expect(page.locator('[data-testid="editor"] .view-lines')).toContainText('leave a warm container behind');
});
