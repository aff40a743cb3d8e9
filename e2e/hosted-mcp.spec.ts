// Hosting an MCP server from the Pool view, as a person does it: declare server-everything (from
// loom-mcp-servers:1, which scripts/build-images.sh mcp makes), list its tools through its
// container, call `echo` with JSON arguments, read the result, open the call's `mcp.tool.call`
// span in the Traces view, and remove the server: its container is gone from the engine.
import type Docker from 'dockerode';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect, test } from './fixtures';
import { openApp, saveScreenshot } from './helpers';

const IMAGE = 'loom-mcp-servers:1';

/** The engine's containers of a hosted server (by the label every hosted container carries). */
async function hostedContainers(docker: Docker, server: string): Promise<string[]> {
  const all = await docker.listContainers({ all: true, filters: { label: [`dev.loom.mcp-server=${server}`] } });
  return all.map((c) => c.Id);
}

test('add a hosted MCP server, see its tools, call echo, see the result and its span; removing it removes its container', async ({ page, loom, docker }) => {
  test.setTimeout(120_000);
  await docker.getImage(IMAGE).inspect();
  const name = `e2e-everything-${Date.now().toString(36)}`;
  const serversFile = join(dirname(loom.historyPath), 'mcp-servers.json');

  await openApp(page, loom);
  await page.getByTestId('view-pool').click();
  const section = page.getByTestId('hosted-servers');
  await expect(section).toBeVisible();

  // A bad declaration is refused, naming its field, and nothing is declared.
  await section.getByTestId('hosted-add-toggle').click();
  await section.getByTestId('hosted-field-name').fill(name);
  await section.getByTestId('hosted-field-command').fill('');
  await section.getByTestId('hosted-add-submit').click();
  await expect(section.getByTestId('hosted-add-error')).toContainText('server.command');
  await expect(section.getByTestId('hosted-field-command')).toHaveAttribute('aria-invalid', 'true');
  await expect(section.getByTestId('hosted-server')).toHaveCount(0);

  // The form's example is server-everything in loom-mcp-servers:1.
  await section.getByTestId('hosted-field-command').fill('node /opt/mcp/node_modules/@modelcontextprotocol/server-everything/dist/index.js stdio');
  await expect(section.getByTestId('hosted-field-image')).toHaveValue(IMAGE);
  await section.getByTestId('hosted-add-submit').click();
  const card = section.locator(`[data-testid="hosted-server"][data-server="${name}"]`);
  await expect(card).toBeVisible();
  // Kept in the servers file beside the history (the file `loom mcp` reads).
  expect(JSON.parse(readFileSync(serversFile, 'utf8'))).toMatchObject({ servers: [{ name, image: IMAGE }] });
  expect(await hostedContainers(docker, name), 'declaring starts nothing').toEqual([]);

  // Its tools, from tools/list through its container.
  await card.getByTestId('hosted-list-tools').click();
  const echo = card.locator('[data-testid="hosted-tool"][data-tool="echo"]');
  await expect(echo).toBeVisible({ timeout: 60_000 });
  const session = card.getByTestId('hosted-session');
  await expect(session).toHaveCount(1);
  const containers = await hostedContainers(docker, name);
  expect(containers).toHaveLength(1);
  await expect(session).toHaveAttribute('data-container-id', containers[0] ?? '');

  // A call with JSON arguments, and its result.
  await echo.click();
  await card.getByTestId('hosted-args').fill('{"message": "hello from the window"}');
  await card.getByTestId('hosted-call').click();
  const result = card.getByTestId('hosted-result');
  await expect(result).toHaveAttribute('data-is-error', 'false', { timeout: 30_000 });
  await expect(result.getByTestId('hosted-result-text')).toHaveText('Echo: hello from the window');
  const call = card.getByTestId('hosted-call-row');
  await expect(call).toHaveCount(1);
  const traceId = (await call.getAttribute('data-trace-id')) ?? '';
  expect(traceId).toMatch(/^[0-9a-f]{32}$/);
  // The call ran in the session's container: still one.
  await expect(session).toContainText('1 call');
  expect(await hostedContainers(docker, name)).toEqual(containers);
  await card.scrollIntoViewIfNeeded();
  await saveScreenshot(page, 'pool-hosted-mcp');

  // The call's span, in the Traces view.
  await result.getByTestId('hosted-result-trace').click();
  await expect(page.getByTestId('view-traces')).toHaveAttribute('aria-checked', 'true');
  const item = page.locator(`[data-testid="trace-item"][data-trace-id="${traceId}"]`);
  await expect(item).toContainText('mcp.tool.call');
  await expect(item).toHaveClass(/is-selected/);
  const span = page.getByTestId('trace-row').filter({ has: page.getByTestId('trace-row-name').getByText('mcp.tool.call', { exact: true }) });
  await expect(span).toHaveCount(1);
  await span.click();
  await expect(page.getByText(name).first()).toBeVisible();
  await saveScreenshot(page, 'traces-hosted-mcp-call');

  // Removed: out of the file, out of the view, and its container out of the engine.
  await page.getByTestId('view-pool').click();
  await section.locator(`[data-testid="hosted-server"][data-server="${name}"]`).getByTestId('hosted-remove').click();
  await expect(card).toHaveCount(0);
  await expect.poll(() => hostedContainers(docker, name), { timeout: 15_000 }).toEqual([]);
  expect(JSON.parse(readFileSync(serversFile, 'utf8'))).toEqual({ servers: [] });
});
