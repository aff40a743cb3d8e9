// Monaco from the local package, never from a CDN (the CSP forbids it and the app must work
// offline). The workers are bundled by Vite (`?worker`) and created by getWorker; then
// @monaco-editor/react is told to use this instance. Must run before any editor mounts, which
// is why EditorPane imports this module first.
import * as monaco from 'monaco-editor';
import EditorWorker from 'monaco-editor/editor/editor.worker?worker';
import TsWorker from 'monaco-editor/language/typescript/ts.worker?worker';
import { loader } from '@monaco-editor/react';

self.MonacoEnvironment = {
  getWorker(_workerId: string, label: string): Worker {
    if (label === 'typescript' || label === 'javascript') return new TsWorker();
    return new EditorWorker();
  },
};

loader.config({ monaco });

// Themes whose background is the app's surface colour, so the editor sits in the layout
// instead of looking pasted in. Hex values mirror --surface in styles/tokens.css.
monaco.editor.defineTheme('loom-light', {
  base: 'vs',
  inherit: true,
  rules: [{ token: 'comment', foreground: '7a808a', fontStyle: 'italic' }],
  colors: {
    'editor.background': '#ffffff',
    'editorLineNumber.foreground': '#b4b9c2',
    'editorLineNumber.activeForeground': '#555b67',
    'editor.lineHighlightBackground': '#f6f7f9',
    'editor.lineHighlightBorder': '#00000000',
    'editorGutter.background': '#ffffff',
    'editorIndentGuide.background1': '#eceef1',
    'editor.selectionBackground': '#d9dbfa',
    'editor.inactiveSelectionBackground': '#e6e7f6',
    'scrollbarSlider.background': '#0000001f',
    'scrollbarSlider.hoverBackground': '#00000033',
  },
});
monaco.editor.defineTheme('loom-dark', {
  base: 'vs-dark',
  inherit: true,
  rules: [{ token: 'comment', foreground: '6f7580', fontStyle: 'italic' }],
  colors: {
    'editor.background': '#17181b',
    'editorLineNumber.foreground': '#4a4e56',
    'editorLineNumber.activeForeground': '#aeb3bc',
    'editor.lineHighlightBackground': '#1d1e22',
    'editor.lineHighlightBorder': '#00000000',
    'editorGutter.background': '#17181b',
    'editorIndentGuide.background1': '#25272c',
    'editor.selectionBackground': '#3a3d7a',
    'editor.inactiveSelectionBackground': '#2c2e55',
    'scrollbarSlider.background': '#ffffff1f',
    'scrollbarSlider.hoverBackground': '#ffffff33',
  },
});

export { monaco };
