// Which Monaco language the editor uses: the runtime's, or for a custom image a guess from
// the command's program (python3 -c → Python, node -e → JavaScript, sh -c → shell).
import type { Runtime } from '../../lib/form-state';

export function editorLanguage(runtime: Runtime, command: string): string {
  if (runtime === 'python') return 'python';
  if (runtime === 'node') return 'javascript';
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
  plaintext: 'program.txt',
};
