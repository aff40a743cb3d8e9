import { describe, expect, it } from 'vitest';
import type { ExecuteRequestJson } from '../../../shared/gen/loom/v1/docker_pb';
import { textToBase64 } from './base64';
import { toCliCommand, toJsonRequest, toTypeScript } from './copy-as';
import { splitShellWords } from './shell-words';

const full: ExecuteRequestJson = {
  runtimeType: 'RUNTIME_TYPE_PYTHON',
  command: ['python3', '-c', "import os\nprint(os.environ['A'], 'it''s')"],
  config: {
    runtimeType: 'RUNTIME_TYPE_PYTHON',
    name: 'agents',
    baseImage: 'python:3.12-slim',
    packages: ['requests==2.31.0', 'rich'],
    resourceLimits: { cpuCores: 0.5, memoryMb: '256', storageMb: '64', pidsLimit: 50, executionTimeoutSeconds: 10 },
    lifecycle: { maxExecutions: 5, rotationIntervalHours: 2 },
    networkMode: 'NETWORK_MODE_BRIDGE',
    isolation: 'ISOLATION_LEVEL_GVISOR',
  },
  env: { A: 'x y', B: "o'k" },
  workingDir: '/tmp/w',
};

describe('toCliCommand', () => {
  it('writes every flag and quotes for the shell', () => {
    const cli = toCliCommand(full);
    expect(cli).toBe(
      "npx loom exec --runtime python --image python:3.12-slim --package requests==2.31.0 --package rich --cpus 0.5 --memory 256 --storage 64 --pids 50 --timeout 10 --network bridge --isolation gvisor --env 'A=x y' --env 'B=o'\\''k' --workdir /tmp/w --max-executions 5 --rotation-hours 2 --name agents -- python3 -c 'import os\nprint(os.environ['\\''A'\\''], '\\''it'\\'''\\''s'\\'')'",
    );
    // What a shell would hand to loom: exactly the argv.
    const words = splitShellWords(cli);
    expect(words.slice(words.indexOf('--') + 1)).toEqual(full.command);
  });

  it('is minimal for a default request', () => {
    expect(toCliCommand({ runtimeType: 'RUNTIME_TYPE_NODE', command: ['node', '-e', 'console.log(1)'] })).toBe(
      "npx loom exec --runtime node -- node -e 'console.log(1)'",
    );
  });

  it('pipes stdin in and names what the CLI cannot express', () => {
    const cli = toCliCommand({
      command: ['cat'],
      stdin: textToBase64("a'b\n"),
      config: { lifecycle: { healthCheckIntervalSeconds: 30, autoCleanup: false } },
    });
    expect(cli).toBe("# loom exec has no flags for: health check every 30s, auto cleanup off\nprintf '%s' 'a'\\''b\n' | npx loom exec --runtime python --stdin - -- cat");
  });

  it('prefers the per-run timeout', () => {
    expect(toCliCommand({ command: ['x'], timeoutSeconds: 3, config: { resourceLimits: { executionTimeoutSeconds: 9 } } })).toContain('--timeout 3');
  });
});

describe('toJsonRequest', () => {
  it('is the proto3 JSON request, pretty-printed', () => {
    expect(JSON.parse(toJsonRequest(full))).toEqual(full);
  });
});

describe('toTypeScript', () => {
  it('calls createExecutor with bigint int64s, enums and a template literal for code', () => {
    const ts = toTypeScript({ ...full, stdin: textToBase64('in') });
    expect(ts).toContain("import { createExecutor } from './electron/main/engine/executor';");
    expect(ts).toContain("import { IsolationLevel, NetworkMode, RuntimeType } from './shared/gen/loom/v1/docker_pb';");
    expect(ts).toContain('runtimeType: RuntimeType.PYTHON,');
    expect(ts).toContain('resourceLimits: { cpuCores: 0.5, memoryMb: 256n, storageMb: 64n, pidsLimit: 50, executionTimeoutSeconds: 10 },');
    expect(ts).toContain("imageSource: { case: 'baseImage', value: \"python:3.12-slim\" },");
    expect(ts).toContain('networkMode: NetworkMode.BRIDGE,');
    expect(ts).toContain('isolation: IsolationLevel.GVISOR,');
    expect(ts).toContain('command: ["python3", "-c", `import os\nprint(');
    expect(ts).toContain('env: { A: "x y", B: "o\'k" },');
    expect(ts).toContain('stdin: new TextEncoder().encode("in"),');
    expect(ts).toContain('await executor.close();');
  });

  it('escapes template literal syntax in code', () => {
    const ts = toTypeScript({ command: ['node', '-e', 'const a = `x ${y}`;\n\\n'] });
    expect(ts).toContain('`const a = \\`x \\${y}\\`;\n\\\\n`');
  });
});
