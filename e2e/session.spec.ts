// The Sessions view as a person uses it: create a session, define a variable, use it in the next
// cell, see a plot as an image, upload a CSV and read it, download an artifact, and restart
// (the variables go, the files stay). Against the real engine, in the image with matplotlib and
// pandas (scripts/build-images.sh data).
import type { Locator, Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { expect, test } from './fixtures';
import { openApp, saveScreenshot } from './helpers';

const DATA_IMAGE = 'loom-python-data:3.11';

/** Types a cell's code into the last (empty) cell and runs it; the cell, once it has ended. */
async function runCell(page: Page, code: string): Promise<Locator> {
  // By position: once it has run, a new empty cell becomes the last one.
  const cell = page.getByTestId('cell').nth((await page.getByTestId('cell').count()) - 1);
  await cell.getByTestId('cell-input').fill(code);
  await cell.getByTestId('cell-input').press('Shift+Enter');
  await expect(cell).not.toHaveAttribute('data-state', /idle|running/, { timeout: 60_000 });
  return cell;
}

test('a notebook session keeps state, shows plots, takes files in and gives artifacts out', async ({ page, loom, docker }) => {
  test.setTimeout(180_000);
  await docker.getImage(DATA_IMAGE).inspect();
  await openApp(page, loom);
  await page.getByTestId('view-sessions').click();
  await page.getByTestId('session-image').fill(DATA_IMAGE);
  await page.getByTestId('session-new').click();
  await expect(page.getByTestId('notebook')).toBeVisible({ timeout: 60_000 });

  const define = await runCell(page, 'x = 20');
  await expect(define).toHaveAttribute('data-state', 'ok');
  await expect(define.getByTestId('cell-count')).toHaveText('[1]');

  const use = await runCell(page, 'x * 2 + 2');
  await expect(use.getByTestId('cell-value')).toHaveText('42');
  await expect(use.getByTestId('cell-count')).toHaveText('[2]');

  const plot = await runCell(page, 'import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [2, 4, 1])\nplt.show()');
  const image = plot.getByTestId('cell-image');
  await expect(image).toBeVisible();
  expect(await image.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(100);

  // Upload by the picker (drag and drop lands in the same call).
  await page.getByTestId('file-upload').setInputFiles({ name: 'cities.csv', mimeType: 'text/csv', buffer: Buffer.from('city,temp\nOslo,3\nLima,19\n') });
  await expect(page.locator('[data-testid="file-row"][data-path="cities.csv"]')).toBeVisible();

  const read = await runCell(page, 'import os, pandas as pd\ndf = pd.read_csv("cities.csv")\nos.makedirs("outputs", exist_ok=True)\ndf.assign(hot=df.temp > 10).to_csv("outputs/hot.csv", index=False)\ndf');
  await expect(read).toHaveAttribute('data-state', 'ok');
  await expect(read.frameLocator('[data-testid="cell-html"]').locator('td', { hasText: 'Lima' })).toBeVisible();
  await saveScreenshot(page, 'session-notebook');

  const [download] = await Promise.all([page.waitForEvent('download'), read.getByTestId('artifact-download').click()]);
  expect(download.suggestedFilename()).toBe('hot.csv');
  expect(readFileSync(await download.path(), 'utf8')).toBe('city,temp,hot\nOslo,3,False\nLima,19,True\n');

  await page.getByTestId('session-restart').click();
  const after = await runCell(page, 'x');
  await expect(after).toHaveAttribute('data-state', 'error');
  await expect(after.getByTestId('cell-output')).toContainText('NameError');
  const kept = await runCell(page, 'open("cities.csv").read().splitlines()[1]');
  await expect(kept.getByTestId('cell-value')).toHaveText("'Oslo,3'");
});
