import { useApp } from '../../store/app-store';
import { toggleTheme } from '../../store/ui-actions';
import { Icon } from '../ui/Icon';

export function ThemeToggle() {
  const theme = useApp((s) => s.theme);
  const next = theme === 'dark' ? 'light' : 'dark';
  return (
    <button
      type="button"
      className="btn btn-ghost btn-icon"
      onClick={toggleTheme}
      aria-label={`Switch to ${next} theme`}
      title={`Switch to ${next} theme`}
      data-testid="theme-toggle"
    >
      <Icon name={theme === 'dark' ? 'sun' : 'moon'} />
    </button>
  );
}
