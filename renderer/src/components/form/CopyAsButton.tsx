// "Copy as": a dialog previewing the request as a `loom exec` command, JSON, or TypeScript,
// with a copy button. The preview matters: it shows exactly what will run elsewhere.
import { useEffect, useMemo, useRef, useState } from 'react';
import { copyAs, type CopyFormat } from '../../lib/copy-as';
import { copyText } from '../../lib/clipboard';
import { notify } from '../../store/app-store';
import { currentRequest } from '../../store/draft-actions';
import { Icon } from '../ui/Icon';
import { Segmented } from '../ui/Segmented';

const FORMATS = [
  { value: 'cli', label: 'CLI', testId: 'copy-cli' },
  { value: 'json', label: 'JSON', testId: 'copy-json' },
  { value: 'typescript', label: 'TypeScript', testId: 'copy-typescript' },
] as const;

export function CopyAsButton({ disabled }: { disabled: boolean }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button
        type="button"
        className="btn btn-sm"
        onClick={() => setOpen(true)}
        disabled={disabled}
        title={disabled ? 'Fix the form first' : 'Copy the request as a command, JSON or code'}
        data-testid="copy-as"
      >
        <Icon name="copy" size={13} />
        Copy as…
      </button>
      {open ? <CopyAsDialog onClose={() => setOpen(false)} /> : null}
    </>
  );
}

function CopyAsDialog({ onClose }: { onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [format, setFormat] = useState<CopyFormat>('cli');
  const text = useMemo(() => copyAs(format, currentRequest()), [format]);

  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal?.();
  }, []);

  const copy = (): void => {
    copyText(text).then(
      () => {
        notify(`Copied as ${FORMATS.find((f) => f.value === format)?.label ?? format}`);
        onClose();
      },
      (err: unknown) => notify(`Could not copy: ${String(err)}`, 'error'),
    );
  };

  return (
    <dialog
      ref={ref}
      className="dialog copy-dialog"
      aria-labelledby="copy-title"
      onClose={onClose}
      onCancel={onClose}
      onClick={(e) => {
        // A click on the backdrop (the dialog element itself, outside its content) closes it.
        if (e.target === ref.current) onClose();
      }}
      data-testid="copy-dialog"
    >
      <div className="dialog-content">
        <div className="dialog-head">
          <h2 id="copy-title">Copy request as</h2>
          <Segmented label="Format" value={format} options={FORMATS} onChange={setFormat} />
          <div className="toolbar-spacer" />
          <button type="button" className="btn btn-ghost btn-icon btn-sm" onClick={onClose} aria-label="Close">
            <Icon name="x" size={14} />
          </button>
        </div>
        <pre className="copy-preview" data-testid="copy-preview" tabIndex={0}>
          {text}
        </pre>
        <div className="dialog-foot">
          <span className="faint">
            {format === 'cli' ? 'Runs the same request from a terminal in this project.' : format === 'json' ? 'The ExecuteRequest as proto3 JSON (what startRun takes).' : 'Calls the engine directly from Node.'}
          </span>
          <div className="toolbar-spacer" />
          <button type="button" className="btn" onClick={onClose}>
            Close
          </button>
          <button type="button" className="btn btn-primary" onClick={copy} autoFocus data-testid="copy-confirm">
            <Icon name="copy" size={13} />
            Copy
          </button>
        </div>
      </div>
    </dialog>
  );
}
