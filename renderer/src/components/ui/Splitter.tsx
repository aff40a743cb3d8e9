// A draggable, keyboard-adjustable divider (ARIA "separator" with a value). It reports sizes in
// pixels of the pane before it; the parent owns the size and its limits.
import { useRef, type KeyboardEvent, type PointerEvent } from 'react';

interface Props {
  orientation: 'horizontal' | 'vertical';
  label: string;
  size: number;
  min: number;
  max: number;
  onChange: (size: number) => void;
  /** +1 when dragging right/down grows the pane, -1 when it shrinks it (a pane after the divider). */
  direction?: 1 | -1;
}

export function Splitter({ orientation, label, size, min, max, onChange, direction = 1 }: Props) {
  const drag = useRef<{ start: number; size: number } | null>(null);
  const clamp = (v: number): number => Math.min(max, Math.max(min, Math.round(v)));
  const axis = (e: PointerEvent): number => (orientation === 'horizontal' ? e.clientY : e.clientX);

  const onPointerDown = (e: PointerEvent<HTMLDivElement>): void => {
    e.currentTarget.setPointerCapture(e.pointerId);
    drag.current = { start: axis(e), size };
  };
  const onPointerMove = (e: PointerEvent<HTMLDivElement>): void => {
    if (!drag.current) return;
    onChange(clamp(drag.current.size + direction * (axis(e) - drag.current.start)));
  };
  const onPointerUp = (): void => {
    drag.current = null;
  };
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>): void => {
    const grow = orientation === 'horizontal' ? (e.key === 'ArrowDown' ? 1 : e.key === 'ArrowUp' ? -1 : 0) : e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
    if (grow !== 0) {
      e.preventDefault();
      onChange(clamp(size + grow * direction * (e.shiftKey ? 64 : 16)));
    } else if (e.key === 'Home') onChange(min);
    else if (e.key === 'End') onChange(max);
  };

  return (
    <div
      className={`splitter splitter-${orientation}`}
      role="separator"
      aria-orientation={orientation}
      aria-label={label}
      aria-valuenow={size}
      aria-valuemin={min}
      aria-valuemax={max}
      tabIndex={0}
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={onPointerUp}
      onPointerCancel={onPointerUp}
      onKeyDown={onKeyDown}
    />
  );
}
