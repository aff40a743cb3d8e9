// The strip across the top: what runs (runtime), the run controls, and the state of things
// (view, engine, theme).
import { LANGUAGE_IMAGES } from '../../../../shared/defaults';
import { useApp } from '../../store/app-store';
import { setRuntime } from '../../store/draft-actions';
import { setView } from '../../store/ui-actions';
import { Icon } from '../ui/Icon';
import { Segmented } from '../ui/Segmented';
import { EngineStatusLight } from './EngineStatusLight';
import { RunControls } from './RunControls';
import { ThemeToggle } from './ThemeToggle';
import './TopBar.css';

const RUNTIMES = [
  { value: 'python', label: 'Python', testId: 'runtime-python', title: 'Python 3.11 (python:3.11-slim)' },
  { value: 'node', label: 'Node', testId: 'runtime-node', title: 'Node 20 (node:20-slim)' },
  { value: 'bash', label: 'Bash', testId: 'runtime-bash', title: `Bash 5.2 (${LANGUAGE_IMAGES.bash})` },
  { value: 'go', label: 'Go', testId: 'runtime-go', title: `Go 1.19, compiled in the sandbox (${LANGUAGE_IMAGES.go})` },
  { value: 'rust', label: 'Rust', testId: 'runtime-rust', title: `Rust 1.63, compiled in the sandbox (${LANGUAGE_IMAGES.rust})` },
  { value: 'ruby', label: 'Ruby', testId: 'runtime-ruby', title: `Ruby 3.1 (${LANGUAGE_IMAGES.ruby})` },
  { value: 'java', label: 'Java', testId: 'runtime-java', title: `Java 17, compiled in the sandbox (${LANGUAGE_IMAGES.java})` },
  { value: 'custom', label: 'Custom image', testId: 'runtime-custom', title: 'Any image; you give the command' },
] as const;

const VIEWS = [
  { value: 'workspace', label: <><Icon name="terminal" size={14} />Run</>, testId: 'view-workspace', title: 'Editor, output and trace' },
  { value: 'sessions', label: <><Icon name="book" size={14} />Sessions</>, testId: 'view-sessions', title: 'Notebook sessions: state kept between cells' },
  { value: 'pool', label: <><Icon name="layers" size={14} />Pool</>, testId: 'view-pool', title: 'Pooled containers' },
  { value: 'traces', label: <><Icon name="flame" size={14} />Traces</>, testId: 'view-traces', title: 'Every trace: received over OTLP, imported, and every run' },
] as const;

export function TopBar() {
  const runtime = useApp((s) => s.runtime);
  const view = useApp((s) => s.view);
  return (
    <header className="topbar">
      <div className="topbar-brand" aria-label="Loom Sandbox">
        <LoomMark />
        <span className="topbar-name">Loom</span>
        <span className="topbar-sub">Sandbox</span>
      </div>
      <div className="topbar-sep" />
      <Segmented label="Runtime" value={runtime} options={RUNTIMES} onChange={setRuntime} testId="runtime-switch" />
      <RunControls />
      <div className="topbar-spacer" />
      <Segmented label="View" value={view} options={VIEWS} onChange={setView} testId="view-switch" />
      <div className="topbar-sep" />
      <EngineStatusLight />
      <ThemeToggle />
    </header>
  );
}

/** Three interlaced threads: the product's mark, drawn inline so it follows the theme. */
function LoomMark() {
  return (
    <svg width="20" height="20" viewBox="0 0 24 24" aria-hidden="true" className="topbar-mark">
      <rect x="2" y="2" width="20" height="20" rx="6" fill="var(--accent)" />
      <path d="M7 7v10M12 7v10M17 7v10" stroke="#fff" strokeWidth="2" strokeLinecap="round" opacity="0.55" />
      <path d="M6 10h12M6 14h12" stroke="#fff" strokeWidth="2" strokeLinecap="round" />
    </svg>
  );
}
