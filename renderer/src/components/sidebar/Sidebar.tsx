// The left column: the run history and the examples, one at a time.
import { useApp, type SidebarTab } from '../../store/app-store';
import { setSidebarTab } from '../../store/ui-actions';
import { ExamplesList } from './ExamplesList';
import { HistoryList } from './HistoryList';
import './Sidebar.css';

export function Sidebar() {
  const tab = useApp((s) => s.sidebarTab);
  const count = useApp((s) => s.history.length);
  const tabs: { id: SidebarTab; label: string; count?: number }[] = [
    { id: 'history', label: 'History', count },
    { id: 'examples', label: 'Examples' },
  ];
  return (
    <aside className="sidebar" aria-label="Runs and examples">
      <div className="panel-header">
        <div className="tabs" role="tablist" aria-label="Sidebar">
          {tabs.map((t) => (
            <button
              key={t.id}
              type="button"
              role="tab"
              id={`sidebar-tab-${t.id}`}
              aria-selected={tab === t.id}
              aria-controls={`sidebar-panel-${t.id}`}
              className="tab"
              data-testid={`sidebar-tab-${t.id}`}
              onClick={() => setSidebarTab(t.id)}
            >
              {t.label}
              {t.count ? <span className="count">{t.count}</span> : null}
            </button>
          ))}
        </div>
      </div>
      <div className="sidebar-body" role="tabpanel" id={`sidebar-panel-${tab}`} aria-labelledby={`sidebar-tab-${tab}`}>
        {tab === 'history' ? <HistoryList /> : <ExamplesList />}
      </div>
    </aside>
  );
}
