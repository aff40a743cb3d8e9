// The language runtimes (bash, go, rust, ruby, java) end to end on the real engine and their
// images (scripts/build-images.sh): programs given as source, compiled in the sandbox where the
// language is compiled, their builds cached there, traced, and hostile ones contained. Each
// language runs on one container (maxContainersPerKey 1), so that "the same container" holds.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LANGUAGE_IMAGES } from '../../../../shared/defaults';
import { LANGUAGE_SAMPLES } from '../../../../shared/language-samples';
import { Phase, SpanSource, SpanStatus, type ExecuteEvent, type ExecuteResponse } from '../../../../shared/gen/loom/v1/docker_pb';
import { RUNTIME_TYPES, isCompiled } from '../../../../shared/runtimes';
import { createExecutor, type Executor } from '../executor';
import { docker, requireEngineAndImages, text } from '../testing/test-support';

type Lang = keyof typeof LANGUAGE_IMAGES;
const LANGS = Object.keys(LANGUAGE_IMAGES) as Lang[];
const TOKEN = randomBytes(4).toString('hex');

/** Each language's programs for the same behaviours. */
interface Programs {
  /** Prints `hello <word>`. */
  hello: (word: string) => string;
  /** Prints `got: <first line of stdin>`. */
  echoLine: string;
  /** Exits with status 3 and prints nothing. */
  exit3: string;
  /** Exits 0 when stdin is empty, spins forever when it is not (compiled once, looped later). */
  spinOnInput: string;
  /** Does not compile (compiled languages) or does not parse (the others). */
  broken: string;
  /** What the compiler's (or interpreter's) diagnostics say about `broken`. */
  brokenSays: RegExp;
  /** A hostile program and what its run must show (the container survives it: see the test). */
  hostile: { source: string; memoryMb?: number; timeoutSeconds?: number; expect: (r: ExecuteResponse) => void };
}

const oomKilled = (r: ExecuteResponse): void => {
  expect(r.exitCode).toBe(137);
  expect(r.oomKilled).toBe(true);
};
const timedOut = (r: ExecuteResponse): void => expect(r.timedOut).toBe(true);

const PROGRAMS: Record<Lang, Programs> = {
  bash: {
    hello: (word) => `echo "hello ${word}"`,
    echoLine: 'read -r line; echo "got: $line"',
    exit3: 'exit 3',
    spinOnInput: 'read -r line || exit 0; while :; do :; done',
    broken: 'if then fi',
    brokenSays: /syntax error/,
    // Processes without end: the pids limit holds them, the deadline ends them all.
    hostile: { source: 'while :; do sleep 100 & done', timeoutSeconds: 5, expect: timedOut },
  },
  ruby: {
    hello: (word) => `puts "hello ${word}"`,
    echoLine: 'line = STDIN.gets; puts "got: #{line.strip}"',
    exit3: 'exit 3',
    spinOnInput: 'exit 0 if STDIN.gets.nil?\nloop {}',
    broken: 'def broken(\n',
    brokenSays: /syntax error/,
    hostile: { source: 'loop { (fork { sleep 100 }) rescue sleep 0.01 }', timeoutSeconds: 5, expect: timedOut },
  },
  go: {
    hello: (word) => `package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello ${word}") }\n`,
    echoLine: 'package main\n\nimport (\n\t"bufio"\n\t"fmt"\n\t"os"\n)\n\nfunc main() {\n\ts := bufio.NewScanner(os.Stdin)\n\ts.Scan()\n\tfmt.Println("got: " + s.Text())\n}\n',
    exit3: 'package main\n\nimport "os"\n\nfunc main() { os.Exit(3) }\n',
    spinOnInput: 'package main\n\nimport (\n\t"bufio"\n\t"os"\n)\n\nfunc main() {\n\tif !bufio.NewScanner(os.Stdin).Scan() {\n\t\treturn\n\t}\n\tfor {\n\t}\n}\n',
    broken: 'package main\n\nfunc main() { x := }\n',
    brokenSays: /main\.go:3:\d+: syntax error/,
    // A memory bomb: the OOM killer ends the program, not the runner.
    hostile: {
      source: 'package main\n\nfunc main() {\n\tvar keep [][]byte\n\tfor {\n\t\tb := make([]byte, 16<<20)\n\t\tfor i := range b {\n\t\t\tb[i] = 1\n\t\t}\n\t\tkeep = append(keep, b)\n\t}\n}\n',
      memoryMb: 128,
      expect: oomKilled,
    },
  },
  rust: {
    hello: (word) => `fn main() {\n    println!("hello ${word}");\n}\n`,
    echoLine: 'fn main() {\n    let mut line = String::new();\n    std::io::stdin().read_line(&mut line).unwrap();\n    println!("got: {}", line.trim());\n}\n',
    exit3: 'fn main() {\n    std::process::exit(3);\n}\n',
    spinOnInput: 'fn main() {\n    let mut line = String::new();\n    if std::io::stdin().read_line(&mut line).unwrap() == 0 {\n        return;\n    }\n    loop {}\n}\n',
    broken: 'fn main() {\n    let x: i32 = "no";\n}\n',
    brokenSays: /error\[E0308\]: mismatched types/,
    hostile: {
      source: 'fn main() {\n    let mut keep = Vec::new();\n    loop {\n        keep.push(vec![1u8; 16 << 20]);\n    }\n}\n',
      memoryMb: 128,
      expect: oomKilled,
    },
  },
  java: {
    hello: (word) => `public class Main {\n    public static void main(String[] args) {\n        System.out.println("hello ${word}");\n    }\n}\n`,
    echoLine:
      'import java.io.*;\n\npublic class Echo {\n    public static void main(String[] args) throws IOException {\n        String line = new BufferedReader(new InputStreamReader(System.in)).readLine();\n        System.out.println("got: " + line);\n    }\n}\n',
    exit3: 'public class Main {\n    public static void main(String[] args) {\n        System.exit(3);\n    }\n}\n',
    spinOnInput:
      'public class Main {\n    public static void main(String[] args) throws Exception {\n        if (System.in.read() < 0) return;\n        while (true) { }\n    }\n}\n',
    broken: 'public class Main {\n    public static void main(String[] args) {\n        int x = "no"\n    }\n}\n',
    brokenSays: /Main\.java:3: error: ';' expected/,
    // Heap and threads bounded: the JVM's own OutOfMemoryError, and the container carries on.
    hostile: {
      source:
        'import java.util.*;\n\npublic class Main {\n    public static void main(String[] args) {\n        List<byte[]> keep = new ArrayList<>();\n        while (true) keep.add(new byte[16 << 20]);\n    }\n}\n',
      memoryMb: 256,
      expect: (r) => {
        expect(r.exitCode).not.toBe(0);
        expect(text(r.stderr)).toMatch(/OutOfMemoryError/);
      },
    },
  },
};

/** What a test adds to a run's request. */
interface Extra {
  stdin?: Uint8Array;
  timeoutSeconds?: number;
  config?: { name: string; resourceLimits?: { memoryMb: bigint } };
}

let executor: Executor;

beforeAll(async () => {
  await requireEngineAndImages();
  executor = await createExecutor({ minIdlePerConfig: 0, maxContainersPerKey: 1 });
}, 60_000);

afterAll(async () => {
  await executor?.close();
});

describe.each(LANGS)('%s', (lang) => {
  beforeAll(async () => {
    const image = LANGUAGE_IMAGES[lang];
    await docker.getImage(image).inspect().catch(() => {
      throw new Error(`These tests need the image ${image}: build it offline with \`npm run images -- ${lang}\``);
    });
  });
  const programs = PROGRAMS[lang];
  const compiled = isCompiled(lang);
  const config = { name: `lang-${lang}-${TOKEN}` };
  const run = (source: string, extra: Extra = {}, events?: ExecuteEvent[]): Promise<ExecuteResponse> =>
    executor.execute({ runtimeType: RUNTIME_TYPES[lang], source, config, timeoutSeconds: 120, ...extra }, { onEvent: events && ((e) => events.push(e)) });
  const spanNamed = (r: ExecuteResponse, name: string) => r.spans.find((s) => s.name === name);

  it('runs hello from its source', async () => {
    const r = await run(programs.hello(`from ${lang}`));
    expect(text(r.stderr)).toBe('');
    expect(text(r.stdout)).toBe(`hello from ${lang}\n`);
    expect(r.exitCode).toBe(0);
    expect(r.compileError).toBe(false);
    expect(r.usage?.via).toBe('runner');
  }, 180_000);

  it("feeds stdin to the program (not to the compiler)", async () => {
    const r = await run(programs.echoLine, { stdin: new TextEncoder().encode('a line\nmore\n') });
    expect(text(r.stderr)).toBe('');
    expect(text(r.stdout)).toBe('got: a line\n');
  }, 180_000);

  it("reports the program's exit code", async () => {
    const r = await run(programs.exit3);
    expect(r.exitCode).toBe(3);
    expect(r.compileError).toBe(false);
  }, 180_000);

  it('kills the program at its timeout, and the container serves the next run', async () => {
    // Run once without input (it exits), so that a compiled language's build is cached and the
    // deadline below is spent spinning, not compiling.
    expect((await run(programs.spinOnInput)).exitCode).toBe(0);
    const r = await run(programs.spinOnInput, { stdin: new TextEncoder().encode('spin\n'), timeoutSeconds: 3 });
    expect(r.timedOut).toBe(true);
    expect(r.compileError).toBe(false);
    const next = await run(programs.hello('after the timeout'));
    expect(text(next.stdout)).toBe('hello after the timeout\n');
    expect(next.containerId).toBe(r.containerId);
  }, 240_000);

  if (compiled) {
    it('reports a compile error as such: diagnostics on stderr, its own status, nothing run', async () => {
      const events: ExecuteEvent[] = [];
      const r = await run(programs.broken, {}, events);
      expect(r.compileError).toBe(true);
      expect(r.timedOut).toBe(false);
      expect(r.exitCode).not.toBe(0);
      expect(text(r.stdout)).toBe('');
      expect(text(r.stderr)).toMatch(programs.brokenSays);
      const phases = events.flatMap((e) => (e.event.case === 'phase' ? [e.event.value.phase] : []));
      expect(phases).toContain(Phase.COMPILE);
      expect(spanNamed(r, 'docker.compile')?.status).toBe(SpanStatus.ERROR);
      expect(spanNamed(r, 'docker.execute')?.statusMessage).toBe('compile error');
    }, 180_000);

    it('does not compile an identical source twice in a warm container', async () => {
      const source = programs.hello(`cached ${TOKEN}`);
      const first = await run(source);
      expect(first.compileCached).toBe(false);
      expect(first.timings?.compileMs).toBeGreaterThan(0);
      expect(spanNamed(first, 'docker.compile')?.status).toBe(SpanStatus.OK);
      const events: ExecuteEvent[] = [];
      const again = await run(source, {}, events);
      expect(again.containerId).toBe(first.containerId);
      expect(again.compileCached).toBe(true);
      expect(again.timings?.compileMs).toBe(0);
      expect(spanNamed(again, 'docker.compile')).toBeUndefined();
      expect(events.some((e) => e.event.case === 'phase' && e.event.value.phase === Phase.COMPILE)).toBe(false);
      expect(text(again.stdout)).toBe(`hello cached ${TOKEN}\n`);
    }, 240_000);
  } else {
    it('reports a syntax error as the program failing, not as a compile error', async () => {
      const r = await run(programs.broken);
      expect(r.compileError).toBe(false);
      expect(r.exitCode).not.toBe(0);
      expect(text(r.stderr)).toMatch(programs.brokenSays);
    }, 180_000);
  }

  it("shows the program's nested spans under docker.execute", async () => {
    const r = await run(LANGUAGE_SAMPLES[lang]);
    expect(r.malformedSpans).toBe(0);
    const root = spanNamed(r, 'docker.execute');
    const outer = spanNamed(r, 'process');
    const inner = spanNamed(r, 'sort');
    expect(outer?.source).toBe(SpanSource.CONTAINER);
    expect(outer?.parentSpanId).toBe(root?.spanId);
    expect(inner?.parentSpanId).toBe(outer?.spanId);
    expect(text(r.stdout)).toMatch(/sorted: \[?1,? 2,? 3/);
  }, 180_000);

  it('contains a hostile program, and the container serves the next run', async () => {
    const { source, memoryMb, timeoutSeconds, expect: check } = programs.hostile;
    const hostileConfig = { ...config, name: `${config.name}-hostile`, resourceLimits: { memoryMb: BigInt(memoryMb ?? 512) } };
    const r = await run(source, { config: hostileConfig, timeoutSeconds: timeoutSeconds ?? 120 });
    check(r);
    const next = await run(programs.hello('after the attack'), { config: hostileConfig });
    expect(text(next.stdout)).toBe('hello after the attack\n');
    expect(next.containerId, String(spanNamed(next, 'docker.execute')?.attributes?.['loom.container_replaced'])).toBe(r.containerId);
  }, 300_000);
});

describe('the build cache', () => {
  it('cannot be changed by a program: a rerun after an attack runs the original build', async () => {
    const config = { name: `lang-cache-${TOKEN}` };
    const run = (source: string): Promise<ExecuteResponse> => executor.execute({ runtimeType: RUNTIME_TYPES.go, source, config, timeoutSeconds: 120 });
    const victim = PROGRAMS.go.hello(`original ${TOKEN}`);
    const first = await run(victim);
    expect(text(first.stdout)).toBe(`hello original ${TOKEN}\n`);
    // Every sealed build a program can see (its own, passed to it) and whatever else is in
    // /proc: try to write over it, truncate it, and plant files where builds are made.
    const attack = await run(`package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	seen, changed := 0, 0
	links, _ := filepath.Glob("/proc/*/fd/*")
	for _, link := range links {
		target, err := os.Readlink(link)
		if err != nil || !strings.Contains(target, "memfd:loom") {
			continue
		}
		seen++
		f, err := os.OpenFile(link, os.O_RDWR, 0)
		if err != nil {
			continue
		}
		if _, err := f.WriteAt([]byte("\\x7fELF-evil"), 0); err == nil {
			changed++
		}
		if err := f.Truncate(4); err == nil {
			changed++
		}
		f.Close()
	}
	for i := 0; i < 64; i++ {
		dir := fmt.Sprintf("/tmp/.loom-%d-%d-0", i, i)
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, "main"), []byte("#!/bin/sh\\necho hijacked\\n"), 0o755)
	}
	fmt.Printf("seen %d changed %d\\n", seen, changed)
}
`);
    expect(attack.containerId).toBe(first.containerId);
    expect(text(attack.stderr)).toBe('');
    expect(text(attack.stdout)).toMatch(/^seen [1-9]\d* changed 0\n$/);
    const again = await run(victim);
    expect(again.containerId).toBe(first.containerId);
    expect(again.compileCached).toBe(true);
    expect(text(again.stdout)).toBe(`hello original ${TOKEN}\n`);
  }, 300_000);
});
