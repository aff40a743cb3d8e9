// The span tree with its waterfall, virtualized: 100,000 rows cost what the ~40 visible ones
// cost. It is one Tab stop (an ARIA tree with aria-activedescendant); the arrow keys move,
// Left/Right collapse and expand, Home/End jump.
import { useEffect, useRef, type KeyboardEvent } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { SpanRow } from '../../../../shared/span-tree';
import type { TraceModel } from '../../lib/spans';
import { TimelineHeader } from './TimelineHeader';
import { TraceRowView } from './TraceRow';

export const ROW_HEIGHT = 26;

interface Props {
  rows: readonly SpanRow[];
  model: TraceModel;
  collapsed: ReadonlySet<string>;
  selectedId: string | null;
  matches: ReadonlySet<string> | null;
  critical?: ReadonlySet<string> | null;
  onSelect: (spanId: string) => void;
  onToggle: (spanId: string) => void;
}

export function TraceTree({ rows, model, collapsed, selectedId, matches, critical = null, onSelect, onToggle }: Props) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
    getItemKey: (index) => rows[index]?.span.spanId ?? index,
  });
  const selectedIndex = selectedId ? rows.findIndex((r) => r.span.spanId === selectedId) : -1;

  // Keep the selection in view when it moves (keyboard, search).
  useEffect(() => {
    if (selectedIndex >= 0) virtualizer.scrollToIndex(selectedIndex, { align: 'auto' });
  }, [selectedIndex, virtualizer]);

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>): void => {
    if (rows.length === 0) return;
    const at = selectedIndex;
    const row = at >= 0 ? rows[at] : undefined;
    const page = Math.max(1, Math.floor((scrollRef.current?.clientHeight ?? 400) / ROW_HEIGHT) - 1);
    const go = (i: number): void => {
      const target = rows[Math.max(0, Math.min(rows.length - 1, i))];
      if (target) onSelect(target.span.spanId);
    };
    switch (e.key) {
      case 'ArrowDown':
        go(at + 1);
        break;
      case 'ArrowUp':
        go(at < 0 ? 0 : at - 1);
        break;
      case 'PageDown':
        go(at + page);
        break;
      case 'PageUp':
        go(at - page);
        break;
      case 'Home':
        go(0);
        break;
      case 'End':
        go(rows.length - 1);
        break;
      case 'ArrowRight':
        if (row && model.parents.has(row.span.spanId)) {
          if (collapsed.has(row.span.spanId)) onToggle(row.span.spanId);
          else go(at + 1);
        }
        break;
      case 'ArrowLeft':
        if (row && model.parents.has(row.span.spanId) && !collapsed.has(row.span.spanId)) onToggle(row.span.spanId);
        else if (row) {
          // To the parent: the nearest row above with a smaller depth.
          for (let i = at - 1; i >= 0; i--) {
            if ((rows[i]?.depth ?? 0) < row.depth) {
              go(i);
              break;
            }
          }
        }
        break;
      case 'Enter':
      case ' ':
        if (row && model.parents.has(row.span.spanId)) onToggle(row.span.spanId);
        break;
      default:
        return;
    }
    e.preventDefault();
  };

  return (
    <div className="trace-tree">
      <TimelineHeader model={model} />
      <div
        ref={scrollRef}
        className="trace-scroll"
        role="tree"
        aria-label="Spans"
        aria-multiselectable="false"
        tabIndex={0}
        aria-activedescendant={selectedIndex >= 0 ? rowDomId(rows[selectedIndex]?.span.spanId ?? '') : undefined}
        onKeyDown={onKeyDown}
        data-testid="trace-tree"
      >
        <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
          {virtualizer.getVirtualItems().map((item) => {
            const row = rows[item.index];
            if (!row) return null;
            const id = row.span.spanId;
            return (
              <TraceRowView
                key={item.key}
                id={rowDomId(id)}
                row={row}
                model={model}
                top={item.start}
                index={item.index}
                count={rows.length}
                expandable={model.parents.has(id)}
                expanded={!collapsed.has(id)}
                selected={id === selectedId}
                match={matches ? matches.has(id) : null}
                critical={critical?.has(id) ?? false}
                onSelect={onSelect}
                onToggle={onToggle}
              />
            );
          })}
        </div>
      </div>
    </div>
  );
}

/** Span ids come from untrusted code: keep DOM ids to a safe alphabet. */
export function rowDomId(spanId: string): string {
  return `span-row-${spanId.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}
