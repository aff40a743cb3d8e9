// Which Monaco language the editor uses: the runtime's, or for a custom image a guess from
// the command's program (python3 -c → Python, node -e → JavaScript, sh -c → shell).
import type { Runtime } from '../../lib/form-state';

const RUNTIME_LANGUAGE: Record<Exclude<Runtime, 'custom'>, string> = {
  python: 'python',
  node: 'javascript',
  bash: 'shell',
  go: 'go',
  rust: 'rust',
  ruby: 'ruby',
  java: 'java',
};

export function editorLanguage(runtime: Runtime, command: string): string {
  if (runtime !== 'custom') return RUNTIME_LANGUAGE[runtime];
  const program = (command.trim().split(/\s+/)[0] ?? '').split('/').pop() ?? '';
  if (/^python[\d.]*$/.test(program)) return 'python';
  if (/^(node|nodejs|bun|deno)$/.test(program)) return 'javascript';
  if (/^(sh|bash|dash|zsh|ash)$/.test(program)) return 'shell';
  if (/^ruby$/.test(program)) return 'ruby';
  if (/^perl$/.test(program)) return 'perl';
  return 'plaintext';
}

export const FILE_NAMES: Record<string, string> = {
  python: 'main.py',
  javascript: 'main.js',
  shell: 'main.sh',
  ruby: 'main.rb',
  perl: 'main.pl',
  go: 'main.go',
  rust: 'main.rs',
  java: 'Main.java',
  plaintext: 'program.txt',
};
