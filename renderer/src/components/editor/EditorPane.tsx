// The code editor. Loaded lazily (React.lazy in Workspace) because Monaco is most of the
// bundle: the rest of the window is usable before it arrives. The editor's own keybindings
// would swallow the app's shortcuts while it has focus, so they are registered here too.
import { useCallback, useRef } from 'react';
import Editor, { type OnMount } from '@monaco-editor/react';
import { monaco } from '../../monaco/setup';
import { useApp } from '../../store/app-store';
import { setCode } from '../../store/draft-actions';
import { cancelSelected, runCurrent, selectedRunIsActive } from '../../store/run-actions';
import { setTab } from '../../store/ui-actions';
import { editorLanguage, FILE_NAMES } from './editor-language';
import './Editor.css';

export default function EditorPane() {
  const runtime = useApp((s) => s.runtime);
  const code = useApp((s) => s.codeByRuntime[s.runtime]);
  const command = useApp((s) => s.form.command);
  const theme = useApp((s) => s.theme);
  const language = editorLanguage(runtime, command);
  const editorRef = useRef<Parameters<OnMount>[0] | null>(null);

  const onMount = useCallback<OnMount>((editor) => {
    editorRef.current = editor;
    const { KeyMod, KeyCode } = monaco;
    editor.addCommand(KeyMod.CtrlCmd | KeyCode.Enter, () => void runCurrent());
    editor.addCommand(KeyMod.CtrlCmd | KeyCode.Digit1, () => setTab('output'));
    editor.addCommand(KeyMod.CtrlCmd | KeyCode.Digit2, () => setTab('trace'));
    editor.addCommand(KeyMod.CtrlCmd | KeyCode.Digit3, () => setTab('stdin'));
    // Escape still closes the editor's own widgets first; only a plain Escape cancels the run.
    editor.addCommand(
      KeyCode.Escape,
      () => {
        if (selectedRunIsActive()) cancelSelected();
      },
      '!suggestWidgetVisible && !findWidgetVisible && !parameterHintsVisible && !renameInputVisible && !editorHasMultipleSelections && !inSnippetMode',
    );
    // No autofocus: Tab inside Monaco indents, so a focused editor at start-up would swallow the
    // keyboard user's first Tabs. (Ctrl+M makes Tab move focus while in the editor.)
  }, []);

  return (
    <div className="editor-host" data-testid="editor">
      <Editor
        path={`${runtime}/${FILE_NAMES[language] ?? 'program.txt'}`}
        language={language}
        value={code}
        theme={theme === 'dark' ? 'loom-dark' : 'loom-light'}
        onChange={(value) => setCode(value ?? '')}
        onMount={onMount}
        loading={<div className="editor-loading">Loading editor…</div>}
        options={{
          fontFamily: "ui-monospace, 'SF Mono', 'Cascadia Code', 'JetBrains Mono', Menlo, Consolas, 'DejaVu Sans Mono', monospace",
          fontSize: 13,
          lineHeight: 20,
          minimap: { enabled: false },
          scrollBeyondLastLine: false,
          automaticLayout: true,
          padding: { top: 10, bottom: 10 },
          tabSize: runtime === 'node' || runtime === 'ruby' ? 2 : 4,
          renderLineHighlight: 'line',
          smoothScrolling: true,
          scrollbar: { verticalScrollbarSize: 10, horizontalScrollbarSize: 10, useShadows: false },
          overviewRulerLanes: 0,
          fixedOverflowWidgets: true,
          ariaLabel: `Program (${language})`,
          'semanticHighlighting.enabled': true,
        }}
      />
    </div>
  );
}
