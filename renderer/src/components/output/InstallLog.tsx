// pip / npm output while packages install: the last lines live, all of them on demand.
import { useEffect, useRef, useState } from 'react';
import { Icon } from '../ui/Icon';

export function InstallLog({ lines, dropped, active, packages }: { lines: string[]; dropped: number; active: boolean; packages: string[] }) {
  const [open, setOpen] = useState(active);
  const ref = useRef<HTMLPreElement>(null);
  useEffect(() => setOpen(active), [active]);
  useEffect(() => {
    if (ref.current) ref.current.scrollTop = ref.current.scrollHeight;
  }, [lines, open]);
  const shown = open ? lines : [];
  const total = lines.length + dropped;
  return (
    <section className="prep-block" aria-label="Package install" data-testid="install-log">
      <button type="button" className="prep-head prep-toggle" onClick={() => setOpen(!open)} aria-expanded={open}>
        <Icon name={open ? 'chevronDown' : 'chevronRight'} size={13} />
        <strong>{active ? 'Installing' : 'Installed'} {packages.length > 0 ? packages.join(', ') : 'packages'}</strong>
        <span className="faint" data-testid="install-line-count">
          {total} line{total === 1 ? '' : 's'}
        </span>
      </button>
      {open ? (
        <pre ref={ref} className="install-log">
          {dropped > 0 ? `… ${dropped} earlier lines\n` : ''}
          {shown.join('\n')}
        </pre>
      ) : null}
    </section>
  );
}
