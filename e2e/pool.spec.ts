// The Pool view lists the containers Loom keeps warm, and its actions (remove, rotate, prune)
// act on the engine: checked against the engine itself, not only the page.
import type { Locator } from '@playwright/test';
import type Docker from 'dockerode';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, ROOT, test } from './fixtures';
import { clickRun, fillField, openApp, saveScreenshot, typeProgram, waitForRunEnd } from './helpers';

const execFileAsync = promisify(execFile);

/** Whether the engine still has the container: 'there', 'gone', or the unexpected error. */
async function engineHas(docker: Docker, id: string): Promise<string> {
  try {
    await docker.getContainer(id).inspect();
    return 'there';
  } catch (err) {
    return (err as { statusCode?: number }).statusCode === 404 ? 'gone' : String(err);
  }
}

/** The ids of the rows a locator (a pool group) holds, as the page shows them now. */
function rowIds(group: Locator): Promise<string[]> {
  return group.getByTestId('pool-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-container-id') ?? ''));
}

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
  await expect.poll(() => engineHas(docker, containerId), { timeout: 15_000 }).toBe('gone');

  // And it stays gone: the next refresh of the list does not bring it back.
  await page.waitForTimeout(2500);
  await expect(row).toHaveCount(0);

  // Back to the workspace: the editor kept its program.
  await page.getByTestId('view-workspace').click();
  await expect(page.locator('[data-testid="editor"] .view-lines')).toContainText('leave a warm container behind');
});

test('two runs on one config count 2 executions under its name; Rotate replaces the container; Prune removes parked ones', async ({ page, loom, docker }) => {
  const stamp = Date.now().toString(36);
  const configName = `e2e-rotate-${stamp}`;
  const parkedName = `e2e-parked-${stamp}`;
  let parkedId = '';
  try {
    await openApp(page, loom);
    await page.getByRole('button', { name: 'Advanced' }).click();
    await fillField(page, 'field-config-name', configName);
    await typeProgram(page, "print('counted')");

    const first = await clickRun(page);
    expect(await waitForRunEnd(page)).toBe('ok');
    const second = await clickRun(page);
    expect(await waitForRunEnd(page)).toBe('ok');
    await expect(page.getByTestId('start-badge')).toHaveText('warm');
    // Both ran in the same container: the engine's records say which.
    const containerId = (await loom.service.getRun(first))?.response?.containerId ?? '';
    expect(containerId).toMatch(/^[0-9a-f]{64}$/);
    expect((await loom.service.getRun(second))?.response?.containerId).toBe(containerId);

    await page.getByTestId('view-pool').click();
    const group = page.getByTestId('pool-group').filter({ has: page.getByTestId('pool-config-name').getByText(configName, { exact: true }) });
    await expect(group).toHaveCount(1, { timeout: 15_000 });
    await expect(group.getByTestId('pool-config-name')).toHaveText(configName);
    // The config label: the image and the guide's default limits it was created with.
    await expect(group.getByTestId('pool-config')).toHaveText('python:3.11-slim · 512 MB · 1 CPU · 1024 MB /tmp · 100 pids · network none');
    await expect(group.locator('.runtime-python')).toHaveText('python');
    const row = group.locator(`[data-testid="pool-row"][data-container-id="${containerId}"]`);
    await expect(row.getByTestId('pool-executions')).toHaveText('2');
    await expect(row).toContainText(`loom-${configName}-`);
    // The service keeps one idle spare per config in use: the run's container and the spare.
    await expect(group.getByTestId('pool-row')).toHaveCount(2, { timeout: 20_000 });
    const before = await rowIds(group);

    // Rotate: the container goes, from the page and the engine, and a fresh one takes its slot.
    await row.getByTestId('pool-rotate').click();
    await expect(row).toHaveCount(0, { timeout: 30_000 });
    await expect.poll(() => engineHas(docker, containerId), { timeout: 15_000 }).toBe('gone');
    await expect.poll(async () => (await rowIds(group)).filter((id) => !before.includes(id)).length, { timeout: 30_000 }).toBe(1);
    const after = await rowIds(group);
    expect(after).toHaveLength(2);
    const fresh = after.find((id) => !before.includes(id)) ?? '';
    expect(await engineHas(docker, fresh)).toBe('there');
    const freshRow = group.locator(`[data-testid="pool-row"][data-container-id="${fresh}"]`);
    await expect(freshRow.getByTestId('pool-executions')).toHaveText('0');
    await expect(freshRow).toHaveAttribute('data-state', 'idle');

    // A warm container `loom exec` left parked for later runs: idle, and no live process owns it.
    // Run asynchronously: the web host serving the page lives in this same process.
    const cli = await execFileAsync(process.execPath, [join(ROOT, 'bin', 'loom.js'), 'exec', '--quiet', '--keep-warm', '300', '--name', parkedName, '--', 'python3', '-c', "print('parked')"], {
      cwd: ROOT,
      timeout: 120_000,
    });
    expect(cli.stdout).toContain('parked');
    const [parked] = await docker.listContainers({ all: true, filters: { label: [`dev.loom.config-name=${parkedName}`] } });
    parkedId = parked?.Id ?? '';
    expect(parked?.Names[0], 'parked under a loom-idle- name').toMatch(/^\/loom-idle-/);
    const parkedRow = page.locator(`[data-testid="pool-row"][data-container-id="${parkedId}"]`);
    await expect(parkedRow).toBeVisible({ timeout: 15_000 });
    await expect(parkedRow).toHaveAttribute('data-state', 'idle');
    await expect(parkedRow.getByTestId('external-badge')).toBeVisible();

    await page.getByTestId('prune-button').click();
    await expect(page.getByTestId('toast').filter({ hasText: /^Removed \d+ containers?$/ })).toBeVisible({ timeout: 20_000 });
    await expect(parkedRow).toHaveCount(0, { timeout: 15_000 });
    expect(await engineHas(docker, parkedId)).toBe('gone');
    // This window's own pool is not Prune's to take: both of its containers are still there.
    expect((await rowIds(group)).sort()).toEqual([...after].sort());
    for (const id of after) expect(await engineHas(docker, id)).toBe('there');
  } finally {
    // The parked container is this test's own: gone even when the test failed before Prune.
    if (parkedId) await docker.getContainer(parkedId).remove({ force: true }).catch(() => undefined);
  }
});
