// Above the editor: the file's name and the exact argv the code is handed to, so it is never
// a mystery what runs (python3 -c CODE, node -e CODE, or the custom command).
import { useApp } from '../../store/app-store';
import { editorLanguage, FILE_NAMES } from './editor-language';
import { DEFAULT_IMAGES } from '../../../../shared/defaults';

export function EditorHeader() {
  const runtime = useApp((s) => s.runtime);
  const command = useApp((s) => s.form.command);
  const image = useApp((s) => s.form.image);
  const language = editorLanguage(runtime, command);
  const shownImage = image.trim() || (runtime === 'custom' ? 'no image yet' : DEFAULT_IMAGES[runtime]);
  return (
    <div className="editor-header">
      <span className="editor-file">{FILE_NAMES[language]}</span>
      <span className="editor-argv faint" title="The program runs as this command inside the container">
        <code>{command.trim() || '…'}</code>
        <span className="editor-argv-code">‹code›</span>
      </span>
      <span className="editor-image faint" title="Image">
        {shownImage}
      </span>
    </div>
  );
}
