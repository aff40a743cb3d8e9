// A user's own PYTHONPATH or NODE_PATH (in the request's env or the config's) is kept, and Loom's
// trace libraries stay importable next to it: on the runner path and on the docker exec path.
// The user's modules come from a host directory mounted read-only, as a user's project would.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RuntimeType, SpanSource, type ExecuteResponse } from '../../../../shared/gen/loom/v1/docker_pb';
import { createExecutor, type Executor, type ExecuteRequestInput } from '../executor';
import { NODE_LIB_DIR, PYTHON_LIB_DIR } from '../container/resources';
import { requireEngineAndImages, text } from '../testing/test-support';

const USER_LIB = '/userlib';
const USER_PY = `${USER_LIB}/py`;
const USER_NODE = `${USER_LIB}/node`;

let dir: string;
const executors: Record<'runner' | 'exec', Executor | undefined> = { runner: undefined, exec: undefined };

beforeAll(async () => {
  await requireEngineAndImages();
  dir = mkdtempSync(join(tmpdir(), 'loom-userlib-'));
  mkdirSync(join(dir, 'py'));
  mkdirSync(join(dir, 'node'));
  writeFileSync(join(dir, 'py', 'usermod.py'), 'VALUE = "user python module"\n');
  writeFileSync(join(dir, 'node', 'usermod.js'), "module.exports = { value: 'user node module' };\n");
  // The sandbox runs as nobody: the directories must be readable by anyone.
  for (const d of [dir, join(dir, 'py'), join(dir, 'node')]) chmodSync(d, 0o755);
  executors.runner = await createExecutor({ allowHostMounts: true, minIdlePerConfig: 0, otlpEndpoint: '' });
  // Every program by docker exec: the env reaches it through the exec, not the runner.
  executors.exec = await createExecutor({ allowHostMounts: true, minIdlePerConfig: 0, otlpEndpoint: '', runner: false });
});

afterAll(async () => {
  await Promise.all([executors.runner?.close(), executors.exec?.close()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const PYTHON = `
import sys, usermod
from loom_trace import trace_span
with trace_span("with_user_path", {"value": usermod.VALUE}):
    pass
print(usermod.VALUE)
print(str(sys.path.index(${JSON.stringify(USER_PY)}) < sys.path.index(${JSON.stringify(PYTHON_LIB_DIR)})).lower())
`;

const NODE = `
const usermod = require('usermod');
const { traceSpanSync } = require('loom-trace.js');
traceSpanSync('with_user_path', { value: usermod.value }, () => {});
console.log(usermod.value);
const paths = require('module').globalPaths;
console.log(paths.includes(${JSON.stringify(USER_NODE)}) && paths.indexOf(${JSON.stringify(USER_NODE)}) < paths.indexOf(${JSON.stringify(NODE_LIB_DIR)}));
`;

const LANGUAGES = {
  python: { runtimeType: RuntimeType.PYTHON, command: ['python3', '-c', PYTHON], name: 'PYTHONPATH', value: USER_PY, expected: 'user python module' },
  node: { runtimeType: RuntimeType.NODE, command: ['node', '-e', NODE], name: 'NODE_PATH', value: USER_NODE, expected: 'user node module' },
} as const;

/** The user's module was imported, in front of Loom's, and the trace library's span arrived under the root. */
function expectBoth(r: ExecuteResponse, expected: string): void {
  expect(text(r.stderr)).toBe('');
  expect(r.exitCode).toBe(0);
  expect(text(r.stdout)).toBe(`${expected}\ntrue\n`);
  const root = r.spans.find((s) => s.name === 'docker.execute')!;
  const inside = r.spans.filter((s) => s.source === SpanSource.CONTAINER);
  expect(inside.map((s) => [s.name, s.parentSpanId, s.attributes?.['value']])).toEqual([['with_user_path', root.spanId, expected]]);
}

describe.each(['runner', 'exec'] as const)("a user's module path, programs started by %s", (path) => {
  for (const [language, l] of Object.entries(LANGUAGES)) {
    /** The program, with the user's path set in the request's env or in the config's. */
    const request = (where: 'request' | 'config'): ExecuteRequestInput => {
      const userEnv = { [l.name]: l.value };
      return {
        runtimeType: l.runtimeType,
        command: [...l.command],
        env: where === 'request' ? userEnv : {},
        config: {
          name: `userpath-${path}-${language}-${where}`,
          mounts: [{ hostPath: dir, containerPath: USER_LIB }],
          env: where === 'config' ? userEnv : {},
        },
      };
    };

    it(`keeps ${l.name} from the request's env and loom's trace library importable (${language})`, async () => {
      expectBoth(await executors[path]!.execute(request('request')), l.expected);
    });

    it(`keeps ${l.name} from the config's env and loom's trace library importable (${language})`, async () => {
      expectBoth(await executors[path]!.execute(request('config')), l.expected);
    });
  }
});
