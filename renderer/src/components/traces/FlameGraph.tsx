// A flame graph of one trace on a canvas (100,000 spans are rectangles, not DOM nodes): time
// across, nesting down, each span a bar the width of its duration; the critical path outlined.
// Clicking a bar selects its span.
import { useEffect, useMemo, useRef, useState, type MouseEvent } from 'react';
import type { SpanNode } from '../../../../shared/span-tree';
import type { TraceModel } from '../../lib/spans';
import { formatDuration } from '../../../../shared/span-tree';

const ROW = 18;
/** Rows past this are not drawn (a canvas has a maximum height). */
const MAX_DEPTH = 1000;

interface Bar {
  node: SpanNode;
  depth: number;
  x0: number;
  x1: number;
}

interface Props {
  model: TraceModel;
  critical: ReadonlySet<string> | null;
}

export function FlameGraph({ model, critical }: Props) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const wrapRef = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(800);
  const [selected, setSelected] = useState<SpanNode | null>(null);

  const { bars, depth } = useMemo(() => layout(model), [model]);

  useEffect(() => {
    const el = wrapRef.current;
    if (!el) return undefined;
    const observer = new ResizeObserver(() => setWidth(Math.max(200, el.clientWidth)));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  useEffect(() => {
    const canvas = canvasRef.current;
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx) return;
    const ratio = window.devicePixelRatio || 1;
    const height = (depth + 1) * ROW;
    canvas.width = width * ratio;
    canvas.height = height * ratio;
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const styles = getComputedStyle(canvas);
    const colors = {
      host: styles.getPropertyValue('--accent').trim() || '#4f46e5',
      container: styles.getPropertyValue('--ok').trim() || '#059669',
      external: styles.getPropertyValue('--text-3').trim() || '#64748b',
      error: styles.getPropertyValue('--err').trim() || '#dc2626',
      text: '#fff',
      critical: styles.getPropertyValue('--warn').trim() || '#d97706',
    };
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    for (const bar of bars) {
      const span = bar.node.span;
      if (!span) continue;
      const x = bar.x0 * width;
      const w = Math.max(1, (bar.x1 - bar.x0) * width);
      // Sub-pixel bars of deep traces would only blur into one another.
      if (w < 0.5) continue;
      const y = bar.depth * ROW;
      ctx.fillStyle = span.status === 2 ? colors.error : span.source === 1 ? colors.host : span.source === 2 ? colors.container : colors.external;
      ctx.fillRect(x, y + 1, w - (w > 2 ? 1 : 0), ROW - 2);
      if (critical?.has(span.spanId)) {
        ctx.strokeStyle = colors.critical;
        ctx.lineWidth = 2;
        ctx.strokeRect(x + 1, y + 2, Math.max(1, w - 3), ROW - 4);
      }
      if (w > 40) {
        ctx.fillStyle = colors.text;
        ctx.save();
        ctx.beginPath();
        ctx.rect(x, y, w - 2, ROW);
        ctx.clip();
        ctx.fillText(span.name, x + 4, y + ROW / 2);
        ctx.restore();
      }
    }
  }, [bars, depth, width, critical]);

  const onClick = (e: MouseEvent<HTMLCanvasElement>): void => {
    const rect = e.currentTarget.getBoundingClientRect();
    const fx = (e.clientX - rect.left) / width;
    const row = Math.floor((e.clientY - rect.top) / ROW);
    const hit = bars.find((b) => b.depth === row && fx >= b.x0 && fx <= b.x1);
    setSelected(hit?.node ?? null);
  };

  return (
    <div className="flame" data-testid="flame-graph">
      <div className="flame-scroll" ref={wrapRef}>
        <canvas ref={canvasRef} onClick={onClick} role="img" aria-label={`Flame graph of ${model.spanCount} spans`} data-bars={bars.length} />
      </div>
      <div className="flame-footer faint" data-testid="flame-selected">
        {selected?.span ? (
          <>
            <strong>{selected.span.name}</strong> {formatDuration(selected.span)}
            {critical?.has(selected.span.spanId) ? ' · on the critical path' : ''}
          </>
        ) : (
          'Click a bar to see its span'
        )}
      </div>
    </div>
  );
}

function layout(model: TraceModel): { bars: Bar[]; depth: number } {
  const total = Number(model.endNs - model.startNs) || 1;
  const bars: Bar[] = [];
  let depth = 0;
  const stack: SpanNode[] = [...model.root.children];
  for (let node = stack.pop(); node; node = stack.pop()) {
    const span = node.span;
    if (!span || node.depth > MAX_DEPTH) continue;
    const x0 = span.startTimeUnixNano > 0n ? Number(span.startTimeUnixNano - model.startNs) / total : 0;
    const x1 = span.endTimeUnixNano > span.startTimeUnixNano ? Number(span.endTimeUnixNano - model.startNs) / total : x0;
    bars.push({ node, depth: node.depth, x0: Math.max(0, x0), x1: Math.min(1, x1) });
    if (node.depth > depth) depth = node.depth;
    for (const child of node.children) stack.push(child);
  }
  return { bars, depth };
}
