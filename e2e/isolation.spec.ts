// gVisor chosen in the request form: the run goes to a container under runsc, and the program
// sees gVisor's kernel (its dmesg), not the host's; runc, the default, sees the host's.
import { expect, test } from './fixtures';
import { openApp, runWithShortcut, saveScreenshot, typeProgram, waitForRunEnd } from './helpers';

const PROGRAM = [
  'import ctypes, os',
  'buf = ctypes.create_string_buffer(4096)',
  'n = ctypes.CDLL(None).klogctl(3, buf, 4096)',
  "print('gvisor' if n > 0 and b'gVisor' in buf.raw[:n] else 'host', os.uname().release)",
].join('\n');

test('gVisor chosen in the form runs the program under gVisor; runc, the default, does not', async ({ page, loom }) => {
  await openApp(page, loom);
  const runc = page.getByTestId('isolation-runc');
  const gvisor = page.getByTestId('isolation-gvisor');
  await expect(runc).toHaveAttribute('aria-checked', 'true');
  await typeProgram(page, PROGRAM);

  await gvisor.click();
  await expect(gvisor).toHaveAttribute('aria-checked', 'true');
  await runWithShortcut(page);
  expect(await waitForRunEnd(page, 120_000)).toBe('ok');
  const lines = page.getByTestId('output-lines');
  await expect(lines.getByTestId('stdout-segment').filter({ hasText: /^gvisor \S+$/ })).toBeVisible();
  await saveScreenshot(page, 'isolation-gvisor');

  // Back to runc: another pool (they never mix), on the host's kernel.
  await runc.click();
  await runWithShortcut(page);
  expect(await waitForRunEnd(page, 120_000)).toBe('ok');
  await expect(lines.getByTestId('stdout-segment').filter({ hasText: /^host \S+$/ })).toBeVisible();
});
