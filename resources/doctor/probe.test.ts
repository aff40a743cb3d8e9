// resources/doctor/probe.py on its own, in a real container that has none of Loom's sandbox
// options: root, every capability, no seccomp filter, a writable root, a network, an engine
// socket, no limits. Every check must fail there: a probe that cannot tell such a container from
// a sandbox would prove nothing. (doctor.test.ts runs it in a real sandbox, where all must pass.)
import type Docker from 'dockerode';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBE_CHECKS } from '../../electron/main/engine/doctor/checks';
import { parseProbeOutput, PROBE_CONFIG } from '../../electron/main/engine/doctor/probe';
import type { ProbeFacts } from '../../electron/main/engine/doctor/types';
import { runExec } from '../../electron/main/engine/container/exec';
import { docker, requireEngineAndImages } from '../../electron/main/engine/testing/test-support';
import { DEFAULT_IMAGES } from '../../shared/defaults';

const HERE = fileURLToPath(new URL('.', import.meta.url));
/** Told apart from Loom's own containers, which this one is not (no reaper may take it). */
const TEST_LABEL = 'dev.loom.test.doctor-probe';

let container: Docker.Container;
let scratch: string;

async function python(args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const r = await runExec(container, { argv: ['python3', ...args], maxOutputBytes: 1 << 20, timeoutMs: 60_000 });
  return { exitCode: r.exitCode, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
}

beforeAll(async () => {
  await requireEngineAndImages();
  scratch = mkdtempSync(join(tmpdir(), 'loom-probe-test-'));
  // Not a socket, but the probe only looks for the path: as a bind-mounted engine socket would be.
  writeFileSync(join(scratch, 'docker.sock'), '');
  container = await docker.createContainer({
    Image: DEFAULT_IMAGES.python,
    Entrypoint: ['sleep'],
    Cmd: ['infinity'],
    Labels: { [TEST_LABEL]: String(process.pid) },
    HostConfig: {
      Binds: [`${HERE}:/probe:ro`, `${join(scratch, 'docker.sock')}:/run/docker.sock:ro`],
      SecurityOpt: ['seccomp=unconfined'],
      NetworkMode: 'bridge',
    },
  });
  await container.start();
});

afterAll(async () => {
  await container?.remove({ force: true, v: true });
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('resources/doctor/probe.py', () => {
  it('compiles with warnings as errors and imports the standard library only', async () => {
    const lint = String.raw`
import ast, json, sys
path = sys.argv[1]
with open(path) as f:
    source = f.read()
compile(source, path, 'exec')
names = set()
for node in ast.walk(ast.parse(source)):
    if isinstance(node, ast.Import):
        names.update(a.name.split('.')[0] for a in node.names)
    elif isinstance(node, ast.ImportFrom):
        names.add((node.module or '').split('.')[0])
print(json.dumps(sorted(n for n in names if n not in sys.stdlib_module_names)))
`;
    const r = await python(['-W', 'error', '-c', lint, '/probe/probe.py']);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual([]);
  });

  describe('in a container without any of the sandbox options', () => {
    let facts: Map<string, ProbeFacts>;
    let lines: string[];

    beforeAll(async () => {
      // The resources "volume" here is a writable directory, as it would be without ReadOnly. With
      // no limits to stop them, the trials are made small: they succeed, which is what fails.
      const config = { ...PROBE_CONFIG, pids: 4, allocMb: 16, writeMb: 2, resourcesDir: '/opt' };
      const r = await python(['/probe/probe.py', JSON.stringify(config)]);
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
      lines = r.stdout.trim().split('\n');
      facts = parseProbeOutput(r.stdout);
    });

    it('answers every probe check once, by its id, and no other', () => {
      expect(lines).toHaveLength(PROBE_CHECKS.length);
      expect([...facts.keys()].sort()).toEqual(PROBE_CHECKS.map((c) => c.id).sort());
      for (const f of facts.values()) expect(f.error, f.check).toBeUndefined();
    });

    // sandbox.kernel reports which kernel answers (the host's, or gVisor's): nothing to fail.
    it.each(PROBE_CHECKS.filter((c) => c.id !== 'sandbox.kernel').map((c) => [c.id, c] as const))('%s fails', (id, check) => {
      const verdict = check.judge(facts.get(id) ?? expect.unreachable(id));
      expect(verdict.status, verdict.detail).toBe('fail');
    });

    it("sandbox.kernel says it is the host's kernel, not gVisor's", () => {
      const kernel = PROBE_CHECKS.find((c) => c.id === 'sandbox.kernel')!;
      expect(kernel.judge(facts.get('sandbox.kernel') ?? expect.unreachable('sandbox.kernel')).detail).toMatch(/^the host's kernel, Linux /);
    });
  });
});
