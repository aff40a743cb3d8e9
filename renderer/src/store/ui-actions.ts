// Theme, view and tab switches.
import { useApp, type BottomTab, type SidebarTab, type Theme, type View } from './app-store';
import { saveJson } from './persist';

export function setTheme(theme: Theme): void {
  useApp.setState({ theme, themeChosen: true });
  saveJson('theme', theme);
}

export function toggleTheme(): void {
  setTheme(useApp.getState().theme === 'dark' ? 'light' : 'dark');
}

/** Follows the system's light/dark setting until the user picks one. Returns the unsubscribe. */
export function followSystemTheme(): () => void {
  if (typeof matchMedia !== 'function') return () => undefined;
  const query = matchMedia('(prefers-color-scheme: dark)');
  const onChange = (): void => {
    if (!useApp.getState().themeChosen) useApp.setState({ theme: query.matches ? 'dark' : 'light' });
  };
  query.addEventListener('change', onChange);
  return () => query.removeEventListener('change', onChange);
}

export function setView(view: View): void {
  useApp.setState({ view });
}

/** Shows a trace in the Traces view. */
export function openTrace(traceId: string): void {
  useApp.setState({ traceToOpen: traceId, view: 'traces' });
}

export function setTab(tab: BottomTab): void {
  useApp.setState({ tab });
}

export function setSidebarTab(sidebarTab: SidebarTab): void {
  useApp.setState({ sidebarTab });
}
