// image → container → packages → running → done, with the current step marked. Packages is
// shown only when the run installs some (a warm container skips it). A run that ended early
// (Loom error, cancel) marks the step it stopped in.
import { PHASES, type PhaseName, type RunProgress } from '../../lib/run-progress';
import { Icon } from '../ui/Icon';
import { Spinner } from '../ui/Spinner';

const LABELS: Record<PhaseName, string> = {
  image: 'Image',
  container: 'Container',
  packages: 'Packages',
  compile: 'Compile',
  running: 'Running',
  done: 'Done',
};

export type StepState = 'done' | 'current' | 'failed' | 'todo';

export function stepState(phase: PhaseName, progress: RunProgress, active: boolean, failed: boolean): StepState {
  const currentIndex = progress.phase ? PHASES.indexOf(progress.phase) : active ? 0 : -1;
  const index = PHASES.indexOf(phase);
  if (index < currentIndex) return 'done';
  if (index > currentIndex) return 'todo';
  if (phase === 'done') return 'done';
  if (active) return 'current';
  return failed ? 'failed' : 'done';
}

interface Props {
  progress: RunProgress;
  active: boolean;
  /** The run ended without finishing (Loom error, cancelled, interrupted). */
  failed: boolean;
  hasPackages: boolean;
}

export function PhaseSteps({ progress, active, failed, hasPackages }: Props) {
  // Packages and compile show only where the run has them.
  const steps = PHASES.filter((p) => (p !== 'packages' || hasPackages || progress.phasesSeen.includes('packages')) && (p !== 'compile' || progress.phasesSeen.includes('compile')));
  return (
    <ol className="phase-steps" aria-label="Run phases" data-testid="phase-indicator" data-phase={progress.phase ?? 'starting'}>
      {steps.map((phase) => {
        const state = stepState(phase, progress, active, failed);
        return (
          <li key={phase} className={`phase phase-${state}`} aria-current={state === 'current' ? 'step' : undefined}>
            <span className="phase-mark">
              {state === 'current' ? <Spinner size={11} /> : state === 'done' ? <Icon name="check" size={11} /> : state === 'failed' ? <Icon name="x" size={11} /> : null}
            </span>
            {LABELS[phase]}
            {state === 'current' && progress.phaseDetail ? <span className="phase-detail">{progress.phaseDetail}</span> : null}
          </li>
        );
      })}
    </ol>
  );
}
