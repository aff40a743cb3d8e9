// The program's standard input. Sent with the request (base64 in JSON); empty means the
// program reads end-of-file at once.
import { useApp } from '../../store/app-store';
import { setStdin } from '../../store/draft-actions';

export function StdinPane() {
  const stdin = useApp((s) => s.stdin);
  const bytes = new TextEncoder().encode(stdin).length;
  return (
    <div className="stdin-pane">
      <label htmlFor="stdin-input" className="stdin-hint faint">
        Standard input for the program. Empty: it reads end-of-file at once.
        <span className="num">{bytes > 0 ? `${bytes.toLocaleString()} bytes` : ''}</span>
      </label>
      <textarea
        id="stdin-input"
        className="stdin-input"
        value={stdin}
        onChange={(e) => setStdin(e.target.value)}
        spellCheck={false}
        placeholder={'{"n": 41}'}
        data-testid="stdin-input"
      />
    </div>
  );
}
