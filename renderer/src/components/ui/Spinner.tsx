import { Icon } from './Icon';

export function Spinner({ size = 14, label }: { size?: number; label?: string }) {
  return (
    <span role={label ? 'status' : undefined} aria-label={label} style={{ display: 'inline-flex' }}>
      <Icon name="loader" size={size} className="spin" />
    </span>
  );
}
