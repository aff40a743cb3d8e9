// @vitest-environment jsdom
// The install block as a run shows it: pip's output for `requests==2.31.0`, line by line as
// packages.ts forwards it, through the store's reducer. Open while installing, folded once the
// program runs, and bounded however long the log gets.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import type { ExecuteEventJson } from '../../../../shared/gen/loom/v1/docker_pb';
import { applyProgress, emptyProgress, MAX_INSTALL_LINES, type RunProgress } from '../../lib/run-progress';
import { InstallLog } from './InstallLog';

afterEach(cleanup);

const PACKAGES = ['requests==2.31.0'];

const PIP = [
  'Collecting requests==2.31.0',
  '  Downloading requests-2.31.0-py3-none-any.whl (62 kB)',
  '     ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ 62.6/62.6 kB 4.1 MB/s eta 0:00:00',
  'Collecting charset-normalizer<4,>=2',
  '  Downloading charset_normalizer-3.3.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl (140 kB)',
  'Collecting idna<4,>=2.5',
  'Collecting urllib3<3,>=1.21.1',
  'Collecting certifi>=2017.4.17',
  'Installing collected packages: urllib3, idna, charset-normalizer, certifi, requests',
  'Successfully installed certifi-2024.2.2 charset-normalizer-3.3.2 idna-3.6 requests-2.31.0 urllib3-2.2.1',
];

/** The events of a cold run with a package, up to the end of the install. */
const INSTALLING: ExecuteEventJson[] = [
  { phase: { phase: 'PHASE_IMAGE', detail: 'python:3.11-slim' } },
  { phase: { phase: 'PHASE_CONTAINER', detail: 'creating' } },
  { phase: { phase: 'PHASE_PACKAGES', detail: PACKAGES.join(' ') } },
  ...PIP.map((line) => ({ installLog: line })),
];

const log = (): HTMLElement | null => screen.getByTestId('install-log').querySelector('pre.install-log');
const toggle = (): HTMLElement => screen.getByRole('button', { name: /Install/ });

function Block({ progress, active }: { progress: RunProgress; active: boolean }) {
  // As OutputPane decides it: live while the run is in its packages phase.
  return <InstallLog lines={progress.installLog} dropped={progress.installLogDropped} active={active && progress.phase === 'packages'} packages={PACKAGES} />;
}

describe('InstallLog', () => {
  it("shows pip's lines as they arrive while the packages install", () => {
    const partway = applyProgress(emptyProgress(), INSTALLING.slice(0, 3 + 4));
    const { rerender } = render(<Block progress={partway} active />);
    expect(toggle().textContent).toContain('Installing requests==2.31.0');
    expect(toggle().getAttribute('aria-expanded')).toBe('true');
    expect(screen.getByTestId('install-line-count').textContent).toBe('4 lines');
    expect(log()?.textContent).toBe(PIP.slice(0, 4).join('\n'));

    rerender(<Block progress={applyProgress(partway, INSTALLING.slice(3 + 4))} active />);
    expect(screen.getByTestId('install-line-count').textContent).toBe(`${PIP.length} lines`);
    // Every line, its indentation kept, in order.
    expect(log()?.textContent).toBe(PIP.join('\n'));
  });

  it('folds away once the program runs, says Installed, and opens again on a click', () => {
    const installed = applyProgress(emptyProgress(), INSTALLING);
    const { rerender } = render(<Block progress={installed} active />);
    expect(log()).not.toBeNull();

    rerender(<Block progress={applyProgress(installed, [{ phase: { phase: 'PHASE_RUNNING' } }])} active />);
    expect(toggle().textContent).toContain('Installed requests==2.31.0');
    expect(toggle().getAttribute('aria-expanded')).toBe('false');
    expect(log()).toBeNull();
    // The count still says how much there is to see.
    expect(screen.getByTestId('install-line-count').textContent).toBe(`${PIP.length} lines`);

    fireEvent.click(toggle());
    expect(toggle().getAttribute('aria-expanded')).toBe('true');
    expect(log()?.textContent).toContain('Successfully installed certifi-2024.2.2');
    fireEvent.click(toggle());
    expect(log()).toBeNull();
  });

  it('says how many early lines it no longer keeps when the log outgrows its bound', () => {
    const chatty: ExecuteEventJson[] = Array.from({ length: MAX_INSTALL_LINES + 25 }, (_, i) => ({ installLog: `  Building wheel step ${i}` }));
    const progress = applyProgress(emptyProgress(), [...INSTALLING.slice(0, 3), ...chatty]);
    render(<Block progress={progress} active />);
    expect(screen.getByTestId('install-line-count').textContent).toBe(`${MAX_INSTALL_LINES + 25} lines`);
    const text = log()?.textContent ?? '';
    expect(text.startsWith('… 25 earlier lines\n  Building wheel step 25\n')).toBe(true);
    expect(text.endsWith(`  Building wheel step ${MAX_INSTALL_LINES + 24}`)).toBe(true);
    expect(text.split('\n')).toHaveLength(MAX_INSTALL_LINES + 1);
  });

  it('names no package when the request lists none (a custom image installs its own)', () => {
    render(<InstallLog lines={['npm warn deprecated inflight@1.0.6']} dropped={0} active packages={[]} />);
    expect(toggle().textContent).toContain('Installing packages');
    expect(screen.getByTestId('install-line-count').textContent).toBe('1 line');
  });
});
