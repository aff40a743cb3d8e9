// The page's WebSocket comes back by itself when the web host goes away and returns; the events
// sent meanwhile are lost to it. A run that was going when the connection dropped must then show
// how it really went, with all of its output, and never stay "running" for good.
import { expect, test, type LoomHost } from './fixtures';
import { clickRun, openApp, outputPane, typeProgram } from './helpers';

/** Resolves when the service (whether or not a page hears it) sends a run's stdout with this text. */
function serviceSends(loom: LoomHost, text: string): Promise<void> {
  return new Promise((resolve) => {
    const off = loom.service.onEvent((event) => {
      if (event.type !== 'run.event' || !event.event.stdout) return;
      if (!Buffer.from(event.event.stdout, 'base64').toString('utf8').includes(text)) return;
      off();
      resolve();
    });
  });
}

test('a run that ends while the web host is down shows how it ended, with all its output, once the page reconnects', async ({ page, loom }) => {
  await openApp(page, loom);
  await typeProgram(page, ["print('before the outage', flush=True)", "__import__('time').sleep(4)", "print('during the outage')"].join('\n'));
  const started = serviceSends(loom, 'before the outage');
  const runId = await clickRun(page);
  await started;

  await loom.stopHost();
  // The run ends while no page can hear of it.
  await expect.poll(async () => (await loom.service.getRun(runId))?.status, { timeout: 30_000 }).toBe('ok');
  await expect(outputPane(page)).toHaveAttribute('data-status', 'running');
  await loom.startHost();

  await expect(outputPane(page)).toHaveAttribute('data-status', 'ok', { timeout: 30_000 });
  await expect(page.getByTestId('output-lines')).toContainText(/before the outage\s*during the outage/);
  await expect(page.getByTestId('exit-code')).toHaveAttribute('data-exit-code', '0');
  await expect(page.locator(`[data-testid="history-item"][data-run-id="${runId}"]`)).toHaveAttribute('data-status', 'ok');
});

test('a run that goes on after the web host came back is followed to its end, with the output sent while it was down', async ({ page, loom }) => {
  await openApp(page, loom);
  await typeProgram(
    page,
    [
      "print('before the outage', flush=True)",
      "__import__('time').sleep(3)",
      "print('during the outage', flush=True)",
      "__import__('time').sleep(15)",
      "print('after the outage')",
    ].join('\n'),
  );
  const started = serviceSends(loom, 'before the outage');
  const runId = await clickRun(page);
  await started;

  const missed = serviceSends(loom, 'during the outage');
  await loom.stopHost();
  await missed;
  await loom.startHost();
  expect((await loom.service.getRun(runId))?.status).toBe('running');

  await expect(outputPane(page)).toHaveAttribute('data-status', 'ok', { timeout: 45_000 });
  await expect(page.getByTestId('output-lines')).toContainText(/before the outage\s*during the outage\s*after the outage/);
  await expect(page.locator(`[data-testid="history-item"][data-run-id="${runId}"]`)).toHaveAttribute('data-status', 'ok');
});
