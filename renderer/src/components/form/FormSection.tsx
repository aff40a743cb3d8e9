// A titled, collapsible group of fields. Open/closed is remembered per section for the session;
// a section with an invalid field cannot be closed, so its message is never hidden.
import { useState, type ReactNode } from 'react';
import { Icon } from '../ui/Icon';

const openState = new Map<string, boolean>();

interface Props {
  id: string;
  title: string;
  summary?: ReactNode;
  defaultOpen?: boolean;
  /** A field inside has an error: the section stays open so that the message is seen. */
  invalid?: boolean;
  children: ReactNode;
}

export function FormSection({ id, title, summary, defaultOpen = true, invalid = false, children }: Props) {
  const [openChoice, setOpenState] = useState(() => openState.get(id) ?? defaultOpen);
  const open = openChoice || invalid;
  const setOpen = (value: boolean): void => {
    openState.set(id, value);
    setOpenState(value);
  };
  return (
    <section className={`form-section${open ? ' open' : ''}`} aria-labelledby={`section-${id}`}>
      <h3 className="form-section-title">
        <button type="button" id={`section-${id}`} aria-expanded={open} aria-controls={`section-body-${id}`} onClick={() => setOpen(!open)}>
          <Icon name={open ? 'chevronDown' : 'chevronRight'} size={13} />
          {title}
          {invalid ? <span className="form-section-invalid" aria-label="has errors" /> : null}
          {!open && summary ? <span className="form-section-summary">{summary}</span> : null}
        </button>
      </h3>
      {open ? (
        <div className="form-section-body" id={`section-body-${id}`}>
          {children}
        </div>
      ) : null}
    </section>
  );
}
