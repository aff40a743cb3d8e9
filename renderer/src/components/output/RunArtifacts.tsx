// A run's artifacts under its output, as the history keeps them: a download for each one kept,
// and the note for one that was too large to keep.
import type { StoredArtifact } from '../../../../shared/api';

export function RunArtifacts({ artifacts }: { artifacts: StoredArtifact[] }) {
  return (
    <ul className="run-artifacts" aria-label="Artifacts" data-testid="run-artifacts">
      {artifacts.map((a) => (
        <li key={a.path}>
          {a.data !== undefined ? (
            <a href={`data:${a.mime};base64,${a.data}`} download={a.path.split('/').at(-1)} data-testid="run-artifact">
              {a.path}
            </a>
          ) : (
            <span>{a.path}</span>
          )}
          <span className="faint num">
            {' '}
            {a.size} bytes · {a.mime}
          </span>
          {a.note ? <span className="faint"> · {a.note}</span> : null}
        </li>
      ))}
    </ul>
  );
}
