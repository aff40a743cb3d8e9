// One span: indented name with its source and status, and its bar on the waterfall.
import { memo, type MouseEvent } from 'react';
import { SpanStatus } from '../../../../shared/gen/loom/v1/docker_pb';
import { formatDuration, type SpanRow } from '../../../../shared/span-tree';
import { barGeometry, sourceLabel, type TraceModel } from '../../lib/spans';
import { Icon } from '../ui/Icon';

const INDENT = 14;
/** Past this depth rows stop moving right (a recursive program can nest thousands deep). */
const MAX_INDENT_DEPTH = 24;

interface Props {
  id: string;
  row: SpanRow;
  model: TraceModel;
  top: number;
  index: number;
  count: number;
  expandable: boolean;
  expanded: boolean;
  selected: boolean;
  /** null: no search; true/false: whether the row matches it. */
  match: boolean | null;
  /** On the critical path (the Traces view highlights it). */
  critical?: boolean;
  onSelect: (spanId: string) => void;
  onToggle: (spanId: string) => void;
}

export const TraceRowView = memo(function TraceRowView(props: Props) {
  const { id, row, model, top, index, count, expandable, expanded, selected, match, critical = false, onSelect, onToggle } = props;
  const { span, depth } = row;
  const error = span.status === SpanStatus.ERROR;
  const source = sourceLabel(span.source);
  const { left, width } = barGeometry(span, model);
  const duration = formatDuration(span);
  // The duration goes inside a wide bar, else beside it on whichever side has room.
  const labelPlace = width > 0.3 ? 'inside' : left + width > 0.7 ? 'left' : 'right';
  const indent = Math.min(depth, MAX_INDENT_DEPTH) * INDENT;

  const onToggleClick = (e: MouseEvent): void => {
    e.stopPropagation();
    onToggle(span.spanId);
  };

  return (
    <div
      id={id}
      role="treeitem"
      aria-level={depth + 1}
      aria-expanded={expandable ? expanded : undefined}
      aria-selected={selected}
      aria-posinset={index + 1}
      aria-setsize={count}
      aria-label={`${span.name}, ${source}, ${duration}${error ? ', error' : ''}`}
      className={`trace-row${selected ? ' is-selected' : ''}${error ? ' is-error' : ''}${match === false ? ' is-dimmed' : ''}${match ? ' is-match' : ''}${critical ? ' is-critical' : ''}`}
      style={{ transform: `translateY(${top}px)` }}
      onClick={() => onSelect(span.spanId)}
      data-testid="trace-row"
      data-span-id={span.spanId}
      data-depth={depth}
      data-error={error ? 'true' : undefined}
      data-critical={critical ? 'true' : undefined}
    >
      <div className="trace-name-cell" style={{ paddingLeft: 6 + indent }}>
        {depth > MAX_INDENT_DEPTH ? <span className="depth-note faint">{depth}</span> : null}
        {expandable ? (
          <span className="trace-toggle" onClick={onToggleClick} aria-hidden="true" data-testid="trace-toggle">
            <Icon name={expanded ? 'chevronDown' : 'chevronRight'} size={13} />
          </span>
        ) : (
          <span className="trace-toggle-spacer" />
        )}
        {error ? <Icon name="alert" size={12} className="trace-error-icon" /> : null}
        <span className="trace-name" data-testid="trace-row-name" title={span.name}>
          {span.name || '(unnamed)'}
        </span>
        <span className={`source-badge source-${source}`}>{source}</span>
        {expandable && !expanded ? <span className="trace-hidden-count faint">+{row.node.children.length}</span> : null}
      </div>
      <div className="trace-bar-cell">
        <div className={`trace-bar bar-${error ? 'error' : source}`} style={{ left: `${left * 100}%`, width: `${width * 100}%` }} />
        <span
          className={`trace-duration num label-${labelPlace}`}
          style={
            labelPlace === 'inside'
              ? { right: `${(1 - left - width) * 100}%` }
              : labelPlace === 'left'
                ? { right: `${(1 - left) * 100}%` }
                : { left: `${(left + width) * 100}%` }
          }
        >
          {duration}
        </span>
      </div>
    </div>
  );
});
