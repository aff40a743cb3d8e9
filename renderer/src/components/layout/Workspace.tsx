// The main view: history on the left, editor over results in the middle, the request form on
// the right. Every divider can be dragged or moved with the arrow keys.
import { lazy, Suspense } from 'react';
import { BottomPanel } from '../panel/BottomPanel';
import { EditorHeader } from '../editor/EditorHeader';
import { RequestForm } from '../form/RequestForm';
import { Sidebar } from '../sidebar/Sidebar';
import { Splitter } from '../ui/Splitter';
import { useLayoutSizes } from './useLayoutSizes';
import './Workspace.css';

const EditorPane = lazy(() => import('../editor/EditorPane'));

export function Workspace() {
  const [sizes, setSizes] = useLayoutSizes();
  const maxPanel = Math.max(160, (typeof window !== 'undefined' ? window.innerHeight : 800) - 200);
  return (
    <div className="workspace" style={{ gridTemplateColumns: `${sizes.sidebar}px 0px minmax(360px, 1fr) 0px ${sizes.form}px` }}>
      <Sidebar />
      <Splitter orientation="vertical" label="Resize history" size={sizes.sidebar} min={200} max={480} onChange={(sidebar) => setSizes({ sidebar })} />
      <main className="centre" style={{ gridTemplateRows: `auto minmax(80px, 1fr) 0px ${Math.min(sizes.panel, maxPanel)}px` }}>
        <EditorHeader />
        <Suspense fallback={<div className="editor-loading">Loading editor…</div>}>
          <EditorPane />
        </Suspense>
        <Splitter
          orientation="horizontal"
          label="Resize results panel"
          size={sizes.panel}
          min={120}
          max={maxPanel}
          direction={-1}
          onChange={(panel) => setSizes({ panel })}
        />
        <BottomPanel />
      </main>
      <Splitter orientation="vertical" label="Resize request form" size={sizes.form} min={280} max={560} direction={-1} onChange={(form) => setSizes({ form })} />
      <RequestForm />
    </div>
  );
}
