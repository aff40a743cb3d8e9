// When Loom itself could not run the program (invalid request, no engine, pull or install
// failed): the error's name and message, and the request field it is about, if any.
import type { SerializedError } from '../../../../shared/api';
import { formFieldOf } from '../../lib/error-field';
import { notify } from '../../store/app-store';
import { Icon } from '../ui/Icon';

function focusField(testId: string, label: string): void {
  const input = document.querySelector<HTMLElement>(`[data-testid="${testId}"]`);
  if (input) {
    input.focus();
    input.scrollIntoView({ block: 'center' });
  } else notify(`Open the form section with “${label}” to change it`);
}

const TITLES: Record<string, string> = {
  ValidationError: 'The request is not valid',
  EngineUnavailableError: 'The Docker engine is not reachable',
  ImagePullError: 'The image could not be pulled',
  PackageInstallError: 'The packages could not be installed',
  CommandNotFoundError: 'The command was not found in the image',
  AbortedError: 'The run was stopped',
};

// Shown elsewhere in the panel already, or repeating the message.
const HIDDEN_FIELDS = new Set(['name', 'message', 'field', 'stack', 'problem', 'output']);

export function LoomErrorPanel({ error }: { error: SerializedError }) {
  const field = typeof error['field'] === 'string' ? error['field'] : undefined;
  const formField = field ? formFieldOf(field) : undefined;
  const extra = Object.entries(error).filter(
    ([k, v]) => !HIDDEN_FIELDS.has(k) && (typeof v === 'string' || typeof v === 'number'),
  );
  return (
    <div className="loom-error" role="alert" data-testid="loom-error" data-error-name={error.name}>
      <Icon name="alert" size={16} />
      <div className="loom-error-body">
        <div className="loom-error-title">
          <strong>{TITLES[error.name] ?? 'Loom could not run the program'}</strong>
          <code className="loom-error-name">{error.name}</code>
        </div>
        {field ? (
          <div className="loom-error-field">
            Field <code data-testid="loom-error-field">{field}</code>
            {formField ? (
              <button type="button" className="btn btn-sm" onClick={() => focusField(formField.testId, formField.label)}>
                Go to {formField.label}
              </button>
            ) : null}
          </div>
        ) : null}
        <pre className="loom-error-message">{error.message}</pre>
        {extra.length > 0 ? (
          <dl className="loom-error-extra">
            {extra.map(([k, v]) => (
              <div key={k}>
                <dt>{k}</dt>
                <dd>{String(v)}</dd>
              </div>
            ))}
          </dl>
        ) : null}
      </div>
    </div>
  );
}
