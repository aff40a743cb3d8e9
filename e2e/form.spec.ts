// The request form: packages as chips (checked as typed, carried by the request), and a memory
// limit that the engine enforces: 64 MB, a program that wants 1 GB, the OOM killer, exit 137.
import { expect, test } from './fixtures';
import { clickRun, fillField, openApp, saveScreenshot, typeProgram, waitForRunEnd } from './helpers';

test('a package becomes a chip that the request carries; a bad one is refused inline and disables Run', async ({ page, loom }) => {
  await openApp(page, loom);
  const input = page.getByTestId('package-input');
  const error = page.getByTestId('package-input-error');
  const run = page.getByTestId('run-button');

  // Something that is not a package, and something that would smuggle an installer option in.
  await input.pressSequentially('bad pkg');
  await expect(error).toHaveText('A package spec has no spaces');
  await expect(input).toHaveAttribute('aria-invalid', 'true');
  await expect(run).toBeDisabled();
  await expect(page.getByTestId('form-problems')).toHaveText('1 problem');
  await saveScreenshot(page, 'form-package-error');
  await input.press('Enter');
  await expect(page.getByTestId('package-chip')).toHaveCount(0);

  await fillField(page, 'package-input', '--index-url=http://evil.example');
  await expect(error).toContainText('looks like an installer option');
  await expect(run).toBeDisabled();

  // A good one: Enter makes it a chip, the input empties, Run is enabled again.
  await fillField(page, 'package-input', 'requests==2.31.0');
  await expect(error).toHaveText('');
  await input.press('Enter');
  const chip = page.getByTestId('package-chip');
  await expect(chip).toHaveCount(1);
  await expect(chip).toHaveText('requests==2.31.0');
  await expect(input).toHaveValue('');
  await expect(run).toBeEnabled();
  await expect(page.getByTestId('form-problems')).toHaveCount(0);

  // The request as it would run elsewhere carries the package (installing it needs PyPI, which
  // is not reachable here, so the run itself goes without it).
  await page.getByTestId('copy-as').click();
  const dialog = page.getByTestId('copy-dialog');
  await expect(dialog).toBeVisible();
  await expect(page.getByTestId('copy-preview')).toContainText('--package requests==2.31.0');
  await page.getByTestId('copy-json').click();
  await expect(page.getByTestId('copy-preview')).toContainText('"packages": [');
  await expect(page.getByTestId('copy-preview')).toContainText('"requests==2.31.0"');
  await page.getByTestId('copy-cli').click();
  await saveScreenshot(page, 'form-copy-as-cli');
  await dialog.getByText('Close', { exact: true }).click();
  await expect(dialog).toBeHidden();

  // Removing the chip takes it out of the request again.
  await page.getByRole('button', { name: 'Remove requests==2.31.0' }).click();
  await expect(chip).toHaveCount(0);
  await page.getByTestId('copy-as').click();
  await expect(page.getByTestId('copy-preview')).not.toContainText('--package');
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('copy-dialog')).toBeHidden();

  await typeProgram(page, "print('no packages needed')");
  await clickRun(page);
  expect(await waitForRunEnd(page)).toBe('ok');
  await expect(page.getByTestId('output-lines')).toContainText('no packages needed');
});

test('a 64 MB memory limit from the form stops a program that allocates 1 GB: exit 137, OOM killed', async ({ page, loom }) => {
  await openApp(page, loom);
  const memoryError = page.getByTestId('field-memory-error');

  // Checked as typed: not a number, then a number the engine would refuse.
  await fillField(page, 'field-memory', 'lots');
  await expect(memoryError).not.toHaveText('');
  await expect(page.getByTestId('run-button')).toBeDisabled();
  await fillField(page, 'field-memory', '64');
  await expect(memoryError).toHaveText('');
  await fillField(page, 'field-timeout', '60');

  await typeProgram(
    page,
    [
      'chunks = []',
      "for i in range(64): chunks.append(bytearray(16 * 1024 * 1024)); print(f'allocated {(i + 1) * 16} MB', flush=True)",
      "print('never reached')",
    ].join('\n'),
  );
  await page.getByTestId('copy-as').click();
  await expect(page.getByTestId('copy-preview')).toContainText('--memory 64');
  await page.keyboard.press('Escape');

  await clickRun(page);
  expect(await waitForRunEnd(page)).toBe('failed');
  await expect(page.getByTestId('exit-code')).toHaveAttribute('data-exit-code', '137');
  await expect(page.getByTestId('exit-code')).toHaveText('exit 137');
  await expect(page.getByTestId('oom-badge')).toHaveText('OOM killed');
  const lines = page.getByTestId('output-lines');
  await expect(lines).toContainText('allocated 16 MB');
  await expect(lines).not.toContainText('never reached');
  await expect(lines).not.toContainText('allocated 1024 MB');
  await saveScreenshot(page, 'form-memory-oom');
});
