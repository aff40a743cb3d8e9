// The Trace tab for a run: its spans, live while it runs, complete from the response after.
import type { RunView } from '../../store/run-view';
import { isActive } from '../../store/run-view';
import { TraceView } from './TraceView';
import { useTraceModel } from './useTraceModel';

export function TracePane({ run }: { run: RunView | undefined }) {
  if (!run) {
    return (
      <div className="empty-state">
        <strong>No trace yet</strong>
        <span>Every run is traced: Loom's phases on the host, and the program's own spans from inside the container.</span>
      </div>
    );
  }
  return <RunTrace key={run.id} run={run} />;
}

function RunTrace({ run }: { run: RunView }) {
  const model = useTraceModel(run.spans);
  const r = run.response;
  return <TraceView model={model} traceId={r?.traceId} dropped={r?.droppedSpans ?? 0} malformed={r?.malformedSpans ?? 0} live={isActive(run.status)} />;
}
