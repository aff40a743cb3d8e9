// What the editor holds on first start: short programs that show what the sandbox does
// (output on both streams, spans from the in-container trace library).
import { LANGUAGE_SAMPLES } from '../../../shared/language-samples';
import type { Runtime } from '../lib/form-state';

export const SAMPLE_CODE: Record<Runtime, string> = {
  python: `# Sort some rows, with trace spans
# (runs as nobody, no network, read-only root; /tmp is writable)
import sys
from loom_trace import trace_span

with trace_span("load", {"rows": 3}):
    rows = [3, 1, 2]

with trace_span("process") as span:
    rows.sort()
    span.set_attribute("count", len(rows))

print("sorted:", rows)
print("a warning on stderr", file=sys.stderr)
`,
  node: `// Sort some rows, with trace spans
// (runs as nobody, no network, read-only root; /tmp is writable)
const { traceSpanSync } = require('loom-trace.js');

const rows = traceSpanSync('load', { rows: 3 }, () => [3, 1, 2]);
traceSpanSync('process', {}, (span) => {
  rows.sort((a, b) => a - b);
  span.setAttribute('count', rows.length);
});

console.log('sorted:', rows);
console.error('a warning on stderr');
`,
  ...LANGUAGE_SAMPLES,
  custom: `print("hello from a custom image")
`,
};
