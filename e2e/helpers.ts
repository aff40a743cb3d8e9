// What the specs do to the window, the way a person does it: open the address, type into the
// editor, press the keys, read what is on screen. Plus saving screenshots of the views.
import { expect, type Locator, type Page } from '@playwright/test';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, type LoomHost } from './fixtures';

/** Every screenshot a spec takes of a view lands here (ignored by git). */
export const SCREENSHOT_DIR = join(ROOT, 'test-results', 'screenshots');
/** With LOOM_DOCS_SCREENSHOTS=1 the same pictures also refresh docs/screenshots (committed). */
const DOCS_SCREENSHOT_DIR = join(ROOT, 'docs', 'screenshots');

/** Saves the whole window as test-results/screenshots/NAME.png (and docs/screenshots when asked). */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = join(SCREENSHOT_DIR, `${name}.png`);
  // The caret blinks and the elapsed-time badge ticks: only what the test waited for matters.
  await page.screenshot({ path: file, animations: 'disabled', caret: 'hide' });
  if (process.env['LOOM_DOCS_SCREENSHOTS'] === '1') {
    mkdirSync(DOCS_SCREENSHOT_DIR, { recursive: true });
    copyFileSync(file, join(DOCS_SCREENSHOT_DIR, `${name}.png`));
  }
  return file;
}

/**
 * Opens the window as `loom ui` prints it (the address with its token) and waits until it is
 * usable: the engine light green, the editor loaded, the history list read.
 */
export async function openApp(page: Page, loom: LoomHost, theme: 'light' | 'dark' = 'light'): Promise<void> {
  await page.emulateMedia({ colorScheme: theme });
  await page.goto(loom.url);
  await expect(page).toHaveTitle(/Loom/);
  await expect(page.getByTestId('engine-status')).toHaveAttribute('data-state', 'ok', { timeout: 20_000 });
  await expect(page.locator('[data-testid="editor"] .monaco-editor')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('run-button')).toBeEnabled();
}

/** The editor's text area: where the keyboard goes when a person clicks into the code. */
function editorSurface(page: Page): Locator {
  return page.locator('[data-testid="editor"] .monaco-editor .view-lines');
}

/**
 * Replaces the program by typing it, key by key, as a person would. Monaco indents after a
 * line ending in ':' and closes brackets and quotes by itself; typing the closing character
 * steps over the one it inserted, so lines without leading indentation come out exactly as
 * written. (Indented lines would be indented twice: keep typed programs flat.)
 */
export async function typeProgram(page: Page, code: string): Promise<void> {
  await editorSurface(page).click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await appendLines(page, code.split('\n'));
  // Back to the top, so the whole program is in view (a long last line scrolls it sideways).
  await page.keyboard.press('ControlOrMeta+Home');
}

/**
 * Types lines at the cursor, each followed by a line break except the last. The break is input
 * text, not an Enter key: after a word, Monaco's word suggestions may be open, and Enter would
 * accept one (joining two lines) instead of breaking the line. Monaco indents it all the same.
 */
export async function appendLines(page: Page, lines: readonly string[]): Promise<void> {
  for (const [i, line] of lines.entries()) {
    if (/^\s/.test(line)) throw new Error(`typeProgram: line ${i + 1} starts with whitespace, which Monaco would indent again: ${JSON.stringify(line)}`);
    await page.keyboard.type(line, { delay: 5 });
    if (i < lines.length - 1) await page.keyboard.insertText('\n');
  }
}

/** Puts the cursor at the very end of the program. */
export async function goToEndOfProgram(page: Page): Promise<void> {
  await editorSurface(page).click();
  await page.keyboard.press('ControlOrMeta+End');
}

/** The run shown in the Output tab, once it has one. */
export function outputPane(page: Page): Locator {
  return page.getByTestId('output-pane');
}

/** Waits for the shown run to end (the pane's status leaves starting/running) and returns its status. */
export async function waitForRunEnd(page: Page, timeout = 60_000): Promise<string> {
  const pane = outputPane(page);
  await expect(pane).toHaveAttribute('data-run-id', /.+/, { timeout: 15_000 });
  await expect(pane).not.toHaveAttribute('data-status', /^(starting|running)$/, { timeout });
  return (await pane.getAttribute('data-status')) ?? '';
}

/** The run id of the run shown in the Output tab. */
export async function shownRunId(page: Page): Promise<string> {
  const pane = outputPane(page);
  await expect(pane).toHaveAttribute('data-run-id', /.+/, { timeout: 15_000 });
  return (await pane.getAttribute('data-run-id')) ?? '';
}

/** Presses Ctrl+Enter in the editor (the shortcut the Run button advertises) and returns the new run's id. */
export async function runWithShortcut(page: Page): Promise<string> {
  const before = await outputPane(page).getAttribute('data-run-id');
  await editorSurface(page).click();
  await page.keyboard.press('ControlOrMeta+Enter');
  const pane = outputPane(page);
  await expect(pane).toHaveAttribute('data-run-id', /.+/, { timeout: 15_000 });
  if (before) await expect(pane).not.toHaveAttribute('data-run-id', before);
  return shownRunId(page);
}

/**
 * Clicks Run and returns the new run's id. From the Stdin tab too: running switches to the
 * Output tab, which is not on screen (so has no previous run to tell apart) until then.
 */
export async function clickRun(page: Page): Promise<string> {
  const before = (await outputPane(page).count()) > 0 ? await outputPane(page).getAttribute('data-run-id') : null;
  await page.getByTestId('run-button').click();
  const pane = outputPane(page);
  await expect(pane).toHaveAttribute('data-run-id', /.+/, { timeout: 15_000 });
  if (before) await expect(pane).not.toHaveAttribute('data-run-id', before);
  return shownRunId(page);
}

/** Sets a form field as a person does: select what is there, type the new value. */
export async function fillField(page: Page, testId: string, value: string): Promise<void> {
  const input = page.getByTestId(testId);
  await input.click();
  await input.press('ControlOrMeta+A');
  if (value === '') await input.press('Delete');
  else await input.pressSequentially(value);
  await expect(input).toHaveValue(value);
}
