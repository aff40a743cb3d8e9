// @vitest-environment jsdom
// The facts beside the tabs, for finished runs as the engine describes them: the truncated
// badge (which stream was cut is in its tooltip), and the others it sits with.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render, screen } from '@testing-library/react';
import type { ExecuteResponseJson } from '../../../../shared/gen/loom/v1/docker_pb';
import { newRunView, statusOfResponse, type RunView } from '../../store/run-view';
import { RunBadges } from './RunBadges';

afterEach(cleanup);

function finished(response: ExecuteResponseJson): RunView {
  const run = newRunView('run-1', { runtimeType: 'RUNTIME_TYPE_PYTHON', command: ['python3', '-c', "print('x' * 10_000_000)"] }, 'live');
  return { ...run, status: statusOfResponse(response), response };
}

const OK: ExecuteResponseJson = { exitCode: 0, durationMs: 812, containerCreated: false };

describe('RunBadges', () => {
  it('shows no truncated badge when the whole output was kept', () => {
    render(<RunBadges run={finished(OK)} />);
    expect(screen.getByTestId('exit-code').textContent).toBe('exit 0');
    expect(screen.getByTestId('start-badge').textContent).toBe('warm');
    expect(screen.queryByTestId('truncated-badge')).toBeNull();
  });

  it('shows truncated, naming stdout, when the response kept only the start of stdout', () => {
    render(<RunBadges run={finished({ ...OK, truncated: true, stdoutTruncated: true })} />);
    const badge = screen.getByTestId('truncated-badge');
    expect(badge.textContent).toBe('truncated');
    expect(badge.getAttribute('title')).toBe('The stored response kept only the first part of stdout');
    // A cut output is not a failure: the run still reads as exit 0.
    expect(screen.getByTestId('run-badges').getAttribute('data-status')).toBe('ok');
  });

  it('names both streams when both were cut, and sits beside timed out and OOM killed', () => {
    const response: ExecuteResponseJson = { exitCode: 137, durationMs: 2004, containerCreated: true, truncated: true, stdoutTruncated: true, stderrTruncated: true, timedOut: true, oomKilled: true };
    render(<RunBadges run={finished(response)} />);
    expect(screen.getByTestId('truncated-badge').getAttribute('title')).toBe('The stored response kept only the first part of stdout and stderr');
    expect(screen.getByTestId('timed-out-badge').textContent).toBe('timed out');
    expect(screen.getByTestId('oom-badge').textContent).toBe('OOM killed');
    expect(screen.getByTestId('start-badge').textContent).toBe('cold');
    const order = [...screen.getByTestId('run-badges').querySelectorAll('[data-testid]')].map((b) => b.getAttribute('data-testid'));
    expect(order.slice(-3)).toEqual(['timed-out-badge', 'oom-badge', 'truncated-badge']);
  });

  it('says "the output" when the engine did not say which stream was cut', () => {
    render(<RunBadges run={finished({ ...OK, truncated: true })} />);
    expect(screen.getByTestId('truncated-badge').getAttribute('title')).toBe('The stored response kept only the first part of the output');
  });
});
