// @vitest-environment jsdom
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render, screen } from '@testing-library/react';
import { emptyProgress, type RunProgress } from '../../lib/run-progress';
import { PhaseSteps, stepState } from './PhaseSteps';

afterEach(cleanup);

const at = (phase: RunProgress['phase'], seen: RunProgress['phasesSeen'] = []): RunProgress => ({ ...emptyProgress(), phase, phasesSeen: seen });

describe('stepState', () => {
  it('marks earlier steps done, the current one running, later ones to do', () => {
    const p = at('container');
    expect(stepState('image', p, true, false)).toBe('done');
    expect(stepState('container', p, true, false)).toBe('current');
    expect(stepState('running', p, true, false)).toBe('todo');
  });

  it('marks the step a failed run stopped in', () => {
    expect(stepState('container', at('container'), false, true)).toBe('failed');
    expect(stepState('done', at('done'), false, false)).toBe('done');
  });

  it('starts at the first step before any phase event', () => {
    expect(stepState('image', emptyProgress(), true, false)).toBe('current');
  });
});

describe('PhaseSteps', () => {
  it('shows Packages only when the run installs some', () => {
    const { rerender } = render(<PhaseSteps progress={at('running')} active failed={false} hasPackages={false} />);
    expect(screen.getByTestId('phase-indicator').textContent).not.toContain('Packages');
    rerender(<PhaseSteps progress={at('packages', ['image', 'container', 'packages'])} active failed={false} hasPackages />);
    expect(screen.getByTestId('phase-indicator').textContent).toContain('Packages');
    expect(screen.getByTestId('phase-indicator').getAttribute('data-phase')).toBe('packages');
  });
});
