// The app-wide keyboard shortcuts. Monaco handles keys itself while it has focus, so the
// editor registers the same commands (see EditorPane); this covers everywhere else.
import { useEffect } from 'react';
import { cancelSelected, runCurrent, selectedRunIsActive } from '../store/run-actions';
import { setTab } from '../store/ui-actions';
import type { BottomTab } from '../store/app-store';

const TABS: Record<string, BottomTab> = { '1': 'output', '2': 'trace', '3': 'stdin' };

export function isMod(e: KeyboardEvent | { ctrlKey: boolean; metaKey: boolean }): boolean {
  return e.ctrlKey || e.metaKey;
}

export function useShortcuts(): void {
  useEffect(() => {
    const onKeyDown = (e: KeyboardEvent): void => {
      if (e.defaultPrevented) return;
      if (isMod(e) && e.key === 'Enter') {
        e.preventDefault();
        void runCurrent();
      } else if (isMod(e) && !e.shiftKey && !e.altKey && TABS[e.key]) {
        e.preventDefault();
        setTab(TABS[e.key] as BottomTab);
      } else if (e.key === 'Escape' && selectedRunIsActive() && !isInsideDialog(e.target)) {
        e.preventDefault();
        cancelSelected();
      }
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, []);
}

/** Escape inside a menu or dialog closes that, not the run. */
function isInsideDialog(target: EventTarget | null): boolean {
  return target instanceof Element && target.closest('[role="dialog"], [role="menu"], [role="listbox"]') !== null;
}
