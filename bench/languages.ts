// The language runtimes' speed (issue 16): warm hello p50 for bash and ruby, and for go and rust
// the first run of a source (compiled in the warm container) and a rerun of the same source (its
// build cached there), next to the warm python hello measured in the same rounds. One executor,
// one warm container per language; the runs rotate between the languages round by round, so
// that the machine's drift reaches every figure alike.
import type Docker from 'dockerode';
import { LANGUAGE_IMAGES } from '../shared/defaults';
import { RuntimeType, type ExecuteResponse } from '../shared/gen/loom/v1/docker_pb';
import { RUNTIME_TYPES } from '../shared/runtimes';
import { createExecutor } from '../electron/main/engine/executor';
import { summarize, type Summary } from './stats';

export interface LanguageFigures {
  pythonWarm: Summary;
  bashWarm: Summary;
  rubyWarm: Summary;
  /** A new source in a warm container: compile plus run. */
  goFirst: Summary;
  goCached: Summary;
  rustFirst: Summary;
  rustCached: Summary;
  /** Runs whose output was not the hello, or that went by exec, or that compiled when cached. */
  wrong: number;
  /** Images absent (the figures are then NaN): `npm run images -- languages` builds them. */
  missingImages: string[];
}

const HELLO: Record<'bash' | 'ruby' | 'go' | 'rust', (word: string) => string> = {
  bash: (w) => `echo "hello ${w}"`,
  ruby: (w) => `puts "hello ${w}"`,
  go: (w) => `package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello ${w}") }\n`,
  rust: (w) => `fn main() {\n    println!("hello ${w}");\n}\n`,
};

/** What a timed run sends (its config is the bench's). */
interface Request {
  runtimeType: RuntimeType;
  command?: string[];
  source?: string;
}

/** How many first runs (each a new source, so each compiles) per compiled language. */
const FIRST_RUNS = 3;

/** `n` timed runs of each warm figure; the executor's containers are removed at the end. */
export async function measureLanguages(docker: Docker, n: number, onError: (err: unknown) => void): Promise<LanguageFigures> {
  const missingImages: string[] = [];
  for (const image of Object.values(LANGUAGE_IMAGES)) {
    if (!(await docker.getImage(image).inspect().then(() => true, () => false))) missingImages.push(image);
  }
  const samples = { pythonWarm: [] as number[], bashWarm: [] as number[], rubyWarm: [] as number[], goFirst: [] as number[], goCached: [] as number[], rustFirst: [] as number[], rustCached: [] as number[] };
  let wrong = 0;
  const result = (): LanguageFigures => ({ ...Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summarize(v)])), wrong, missingImages }) as LanguageFigures;
  if (missingImages.length) return result();

  const executor = await createExecutor({ docker, minIdlePerConfig: 0, maxContainersPerKey: 1, reapOrphans: false, onError });
  try {
    const timed = async (request: Omit<Request, 'config'>, expected: string, into: number[] | null, cached?: boolean): Promise<ExecuteResponse> => {
      const t = performance.now();
      const r = await executor.execute({ ...request, config: { name: 'bench-languages' } });
      const ms = performance.now() - t;
      const ok = r.exitCode === 0 && Buffer.from(r.stdout).toString('utf8') === `${expected}\n` && r.usage?.via === 'runner' && (cached === undefined || r.compileCached === cached);
      if (!ok) wrong++;
      into?.push(ms);
      return r;
    };
    const python = { runtimeType: RuntimeType.PYTHON, command: ['python3', '-c', "print('hello python')"] };
    const source = (lang: keyof typeof HELLO, word: string): Request => ({ runtimeType: RUNTIME_TYPES[lang], source: HELLO[lang](word) });
    // Warm-up: every container made and its runner up, every cached build made.
    for (let i = 0; i < 5; i++) {
      await timed(python, 'hello python', null);
      for (const lang of ['bash', 'ruby', 'go', 'rust'] as const) await timed(source(lang, 'bench'), 'hello bench', null);
    }
    for (let i = 0; i < FIRST_RUNS; i++) {
      const word = `first ${i} ${executor.owner.instance}`;
      await timed(source('go', word), `hello ${word}`, samples.goFirst, false);
      await timed(source('rust', word), `hello ${word}`, samples.rustFirst, false);
    }
    for (let i = 0; i < n; i++) {
      await timed(python, 'hello python', samples.pythonWarm);
      await timed(source('bash', 'bench'), 'hello bench', samples.bashWarm);
      await timed(source('ruby', 'bench'), 'hello bench', samples.rubyWarm);
      await timed(source('go', 'bench'), 'hello bench', samples.goCached, true);
      await timed(source('rust', 'bench'), 'hello bench', samples.rustCached, true);
    }
    return result();
  } finally {
    await executor.close();
  }
}
