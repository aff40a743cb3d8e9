// The engine's examples (the guide's scenarios): choosing one loads its code and settings.
import type { Example } from '../../../../shared/api';
import { useApp, notify } from '../../store/app-store';
import { loadRequest } from '../../store/draft-actions';
import { runtimeFromJson } from '../../lib/request';

function loadExample(example: Example): void {
  loadRequest(example.request);
  notify(`Loaded “${example.title}”`);
}

export function ExamplesList() {
  const examples = useApp((s) => s.examples);
  const loaded = useApp((s) => s.examplesLoaded);
  if (!loaded) return <div className="empty-state">Loading…</div>;
  if (examples.length === 0) {
    return (
      <div className="empty-state">
        <strong>No examples</strong>
        <span>The engine did not offer any.</span>
      </div>
    );
  }
  return (
    <ul className="examples-list" aria-label="Examples">
      {examples.map((example) => {
        const runtime = runtimeFromJson(example.request.runtimeType) ?? runtimeFromJson(example.request.config?.runtimeType) ?? 'python';
        return (
          <li key={example.id}>
            <button type="button" className="example-item" data-testid="example-item" data-example-id={example.id} onClick={() => loadExample(example)}>
              <span className="example-head">
                <span className="example-title">{example.title}</span>
                <span className={`badge badge-outline runtime-${runtime}`}>{runtime}</span>
              </span>
              <span className="example-desc">{example.description}</span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}
