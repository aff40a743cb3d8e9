// Above the editor: the file's name and the exact argv the code is handed to, so it is never
// a mystery what runs (python3 -c CODE, node -e CODE, the custom command, or the code as a
// language runtime's source).
import { useApp } from '../../store/app-store';
import { editorLanguage, FILE_NAMES } from './editor-language';
import { sendsSource } from '../../lib/form-state';
import { defaultImage } from '../../../../shared/defaults';
import { isCompiled } from '../../../../shared/runtimes';

export function EditorHeader() {
  const runtime = useApp((s) => s.runtime);
  const command = useApp((s) => s.form.command);
  const image = useApp((s) => s.form.image);
  const language = editorLanguage(runtime, command);
  const shownImage = image.trim() || (runtime === 'custom' ? 'no image yet' : defaultImage(runtime));
  return (
    <div className="editor-header">
      <span className="editor-file">{FILE_NAMES[language]}</span>
      {sendsSource(runtime, command) ? (
        <span className="editor-argv faint" data-testid="editor-source-mode" title="The code is sent as the program's source: written in the container, compiled there where the language is, and run">
          <code>{isCompiled(runtime) ? 'compiled, then run' : 'run as a file'}</code>
        </span>
      ) : (
        <span className="editor-argv faint" title="The program runs as this command inside the container">
          <code>{command.trim() || '…'}</code>
          <span className="editor-argv-code">‹code›</span>
        </span>
      )}
      <span className="editor-image faint" title="Image">
        {shownImage}
      </span>
    </div>
  );
}
