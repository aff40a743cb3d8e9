// The guide's examples, and a few more that show one feature each, ready to run from the UI.
// Where the guide needs the internet (pandas, axios, GitHub's API) the standard library or a
// simulated call stands in, so that every example but the pip one runs offline.
import type { Example } from '../../../shared/api';
import { LANGUAGE_SAMPLES } from '../../../shared/language-samples';
import { RUNTIME_JSON } from '../../../shared/runtimes';

const base64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

const DATA_PROCESSOR = `# data_processor.py: the guide's Example 1. The standard library stands in for pandas,
# so that it runs without installing anything.
import csv
import io
import statistics

from loom_trace import tracer, trace_span


def main():
    # loom_trace is present in every sandbox: no install, no import path to set
    print(f"Trace ID: {tracer.trace_id}")
    print(f"Parent Span ID: {tracer.parent_span_id}")

    with trace_span("load_data", {"rows": 5}):
        # Simulate data loading: a small CSV, read as a DataFrame would be
        table = list(csv.DictReader(io.StringIO("col\\n1\\n2\\n3\\n4\\n5\\n")))
        col = [int(row["col"]) for row in table]

    with trace_span("process_data"):
        result = sum(col)
        print(f"Sum: {result}")
        print(f"Mean: {statistics.mean(col)}")

    with trace_span("save_results"):
        print("Results saved")


if __name__ == "__main__":
    main()
`;

const API_INTEGRATION = `// api_integration.js: the guide's Example 2. A simulated GET stands in for axios and the
// network, so that it runs offline; the spans are the same.
const { tracer, traceSpanSync } = require('loom-trace.js');

// Answers as https://api.github.com/users/octocat would, after a network-like delay.
function simulatedGet(url) {
  return new Promise((resolve) =>
    setTimeout(() => resolve({ status: 200, url, data: { login: 'octocat', public_repos: 8 } }), 120),
  );
}

async function main() {
  console.log(\`Trace ID: \${tracer.traceId}\`);

  try {
    await traceSpanSync('fetch_user_data', { api: 'github' }, async () => {
      const response = await simulatedGet('https://api.github.com/users/octocat');
      console.log(\`User: \${response.data.login}\`);
      console.log(\`Public repos: \${response.data.public_repos}\`);
    });
  } catch (error) {
    // The span is marked as an error automatically
    console.error('API call failed:', error.message);
    process.exit(1);
  }

  await traceSpanSync('process_response', {}, async () => {
    console.log('Processing completed');
  });
}

main();
`;

const NESTED_SPANS = `# Spans nest: a span opened inside another becomes its child in the Trace tab.
import time

from loom_trace import trace_span, trace_function


@trace_function
def fetch_page(page):
    time.sleep(0.02)
    return list(range(page * 10, page * 10 + 10))


with trace_span("pipeline", {"pages": 3}):
    rows = []
    with trace_span("extract"):
        for page in range(3):
            with trace_span("page", {"page": page}):
                rows.extend(fetch_page(page))
    with trace_span("transform", {"rows": len(rows)}):
        squares = [r * r for r in rows]
    with trace_span("load"):
        print(f"loaded {len(squares)} rows, total {sum(squares)}")
`;

const TIMEOUT = `# Spins forever: the 3 s timeout kills it and the run reports timed out.
print("spinning until the timeout...", flush=True)
while True:
    pass
`;

const MEMORY_LIMIT = `# Asks for 1 GB in 16 MB steps under a 64 MB limit: the kernel's OOM killer ends it
# (exit code 137, the response says oomKilled).
chunks = []
for i in range(64):
    chunks.append(bytearray(16 * 1024 * 1024))
    print(f"allocated {(i + 1) * 16} MB", flush=True)
print("never reached")
`;

const STDIN = `# Reads a JSON order from stdin (see the Stdin tab) and totals it.
import json
import sys

order = json.load(sys.stdin)
total = sum(item["qty"] * item["price"] for item in order["items"])
print(f"{order['customer']}: {len(order['items'])} items, total {total:.2f}")
`;

const STDIN_ORDER = JSON.stringify(
  {
    customer: 'Ada',
    items: [
      { name: 'loom', qty: 1, price: 249.5 },
      { name: 'shuttle', qty: 3, price: 12.25 },
    ],
  },
  null,
  2,
);

const PIP_PACKAGE = `# requests is installed when the container is created; it needs PyPI and the network.
import requests

print(f"requests {requests.__version__}")
response = requests.get("https://example.com", timeout=10)
print(f"GET https://example.com -> {response.status_code}")
`;

const LANGUAGE_TITLES: Record<keyof typeof LANGUAGE_SAMPLES, string> = { bash: 'Bash', go: 'Go', rust: 'Rust', ruby: 'Ruby', java: 'Java' };

export const EXAMPLES: readonly Example[] = [
  {
    id: 'data-processing',
    title: 'Example 1: data processing with tracing',
    description: "The guide's Python example: spans load_data, process_data and save_results under the host's docker.execute span.",
    request: {
      runtimeType: 'RUNTIME_TYPE_PYTHON',
      command: ['python3', '-c', DATA_PROCESSOR],
      config: { name: 'data-processor', runtimeType: 'RUNTIME_TYPE_PYTHON', baseImage: 'python:3.11-slim' },
    },
  },
  {
    id: 'api-integration',
    title: 'Example 2: Node API integration',
    description: "The guide's Node example with traceSpanSync; a simulated GET stands in for axios and the network.",
    request: {
      runtimeType: 'RUNTIME_TYPE_NODE',
      command: ['node', '-e', API_INTEGRATION],
      config: { name: 'api-integration', runtimeType: 'RUNTIME_TYPE_NODE', baseImage: 'node:20-slim' },
    },
  },
  {
    id: 'python-hello',
    title: 'Python hello',
    description: 'The smallest run: one line of Python. Run it twice to see a cold start, then a warm one.',
    request: { runtimeType: 'RUNTIME_TYPE_PYTHON', command: ['python3', '-c', "print('Hello from Docker!')"] },
  },
  {
    id: 'nested-spans',
    title: 'Nested spans',
    description: 'Spans inside spans, with attributes and a traced function: the Trace tab shows the tree.',
    request: { runtimeType: 'RUNTIME_TYPE_PYTHON', command: ['python3', '-c', NESTED_SPANS] },
  },
  {
    id: 'timeout',
    title: 'Timeout',
    description: 'An endless loop under a 3 second timeout: the program is killed and the run reports timed out.',
    request: { runtimeType: 'RUNTIME_TYPE_PYTHON', command: ['python3', '-c', TIMEOUT], timeoutSeconds: 3 },
  },
  {
    id: 'memory-limit',
    title: 'Memory limit',
    description: 'Allocates 1 GB under a 64 MB limit: the OOM killer ends it with exit code 137.',
    request: {
      runtimeType: 'RUNTIME_TYPE_PYTHON',
      command: ['python3', '-c', MEMORY_LIMIT],
      config: { resourceLimits: { memoryMb: '64' } },
      timeoutSeconds: 30,
    },
  },
  {
    id: 'stdin',
    title: 'Reading stdin',
    description: 'The program reads a JSON document from stdin (edit it in the Stdin tab).',
    request: { runtimeType: 'RUNTIME_TYPE_PYTHON', command: ['python3', '-c', STDIN], stdin: base64(STDIN_ORDER) },
  },
  {
    id: 'pip-package',
    title: 'A pip package (needs network)',
    description:
      'Installs requests when the container is created and makes one HTTPS request. Needs network: PyPI and the internet must be reachable (bridge network).',
    request: {
      runtimeType: 'RUNTIME_TYPE_PYTHON',
      command: ['python3', '-c', PIP_PACKAGE],
      config: { runtimeType: 'RUNTIME_TYPE_PYTHON', packages: ['requests'], networkMode: 'NETWORK_MODE_BRIDGE' },
      timeoutSeconds: 60,
    },
  },
  ...(Object.entries(LANGUAGE_SAMPLES) as [keyof typeof LANGUAGE_SAMPLES, string][]).map(([language, source]): Example => ({
    id: `${language}-spans`,
    title: `${LANGUAGE_TITLES[language]}: nested spans`,
    description: `${LANGUAGE_TITLES[language]} source${language === 'go' || language === 'rust' || language === 'java' ? ', compiled in the sandbox (a rerun reuses the build),' : ''} that writes nested spans${language === 'bash' ? ' with loom-span' : ' in the span format any language can write'}: the Trace tab shows them under docker.execute.`,
    request: { runtimeType: RUNTIME_JSON[language], source },
  })),
];

/** A copy per call: the UI may edit what it receives without touching the originals. */
export function listExamples(): Example[] {
  return structuredClone([...EXAMPLES]);
}
