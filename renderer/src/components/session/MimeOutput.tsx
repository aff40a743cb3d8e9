// One display output of a cell: an image, a table (HTML in a sandboxed frame with no scripts),
// JSON or text.
import type { ShownItem } from './session-model';
import { htmlFrameDoc } from './session-model';

export function MimeOutput({ item }: { item: ShownItem }) {
  if (item.url) return <img className="cell-image" src={item.url} alt={`${item.mime} output`} data-testid="cell-image" />;
  if (item.mime === 'text/html') {
    // sandbox without allow-scripts (and without allow-same-origin): nothing in it runs.
    return <iframe className="cell-html" sandbox="" srcDoc={htmlFrameDoc(item.text ?? '')} title="HTML output" data-testid="cell-html" />;
  }
  if (item.mime === 'application/json') {
    let pretty = item.text ?? '';
    try {
      pretty = JSON.stringify(JSON.parse(pretty), null, 2);
    } catch {
      // Shown as it came.
    }
    return <pre className="cell-text cell-json">{pretty}</pre>;
  }
  return (
    <pre className="cell-text" data-testid="cell-value">
      {item.text}
    </pre>
  );
}
