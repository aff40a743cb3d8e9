// Arranges a trace's flat list of spans into the tree the CLI prints and the UI lists.
// Pure (no Node or DOM APIs) so both can use it. The spans come partly from untrusted code in
// the container, so nothing here may assume the parent links are sane: parents can be missing,
// point at the span itself, or form cycles, and the result must still be a finite tree that
// shows every span exactly once.

import { SpanSource, SpanStatus, type Span } from './gen/loom/v1/docker_pb';

export interface SpanNode {
  /** null only for the synthetic root. */
  span: Span | null;
  children: SpanNode[];
  /** Real ancestors above this node: a top-level span has 0; the synthetic root has -1. */
  depth: number;
}

/** One line of the flattened tree, in display order. */
export interface SpanRow {
  span: Span;
  depth: number;
  node: SpanNode;
}

/**
 * Builds the tree, like Jaeger UI's getTraceSpanIdsAsTree. The result is ALWAYS a synthetic root
 * (span null, depth -1), even when the trace has exactly one real root: callers then handle
 * one shape, and orphans or a second root never change it. Under the root hang the spans whose
 * parent is '' or not in the set, and the spans of parent cycles (a self-parent included),
 * which would otherwise be unreachable. Children are ordered by start time, then name, then
 * span id, so the same spans always give the same tree. With duplicate span ids, children name
 * the first occurrence as their parent.
 */
export function buildSpanTree(spans: readonly Span[]): SpanNode {
  const root: SpanNode = { span: null, children: [], depth: -1 };
  const nodes = spans.map((span): SpanNode => ({ span, children: [], depth: 0 }));
  const byId = new Map<string, SpanNode>();
  for (const node of nodes) {
    const id = spanOf(node).spanId;
    if (!byId.has(id)) byId.set(id, node);
  }
  const parentOf = (node: SpanNode): SpanNode | undefined => {
    const { parentSpanId, spanId } = spanOf(node);
    if (parentSpanId === '' || parentSpanId === spanId) return undefined;
    const parent = byId.get(parentSpanId);
    return parent === node ? undefined : parent;
  };

  const orphans = cycleMembers(nodes, parentOf);
  for (const node of nodes) {
    const parent = orphans.has(node) ? undefined : parentOf(node);
    (parent ?? root).children.push(node);
  }

  // Iterative so that a very deep chain (a recursive program) cannot overflow the stack.
  const stack: SpanNode[] = [root];
  for (let node = stack.pop(); node; node = stack.pop()) {
    node.children.sort(compareNodes);
    for (const child of node.children) {
      child.depth = node.depth + 1;
      stack.push(child);
    }
  }
  return root;
}

/** The spans in display order (pre-order), skipping the synthetic root and collapsed subtrees. */
export function flattenTree(root: SpanNode, opts: { collapsed?: ReadonlySet<string> } = {}): SpanRow[] {
  const rows: SpanRow[] = [];
  const stack: SpanNode[] = [...root.children].reverse();
  if (root.span) stack.push(root);
  for (let node = stack.pop(); node; node = stack.pop()) {
    const span = spanOf(node);
    rows.push({ span, depth: node.depth, node });
    if (opts.collapsed?.has(span.spanId)) continue;
    for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i] as SpanNode);
  }
  return rows;
}

/**
 * The tree as text: top-level spans at the left margin, descendants under box-drawing guides,
 * each line `name (source) duration`, error spans followed by `  ✗ message`. Durations are
 * shown unless `durations` is false. `label` names what is in the parentheses (by default the
 * span's source: host or container).
 */
export function formatSpanTree(root: SpanNode, opts: { durations?: boolean; label?: (span: Span) => string } = {}): string {
  const showDurations = opts.durations ?? true;
  const label = opts.label ?? ((span: Span) => sourceName(span.source));
  const lines: string[] = [];
  // prefix: the guides drawn for the ancestors; branch: this node's own connector.
  type Item = { node: SpanNode; prefix: string; branch: string; childPrefix: string };
  const stack: Item[] = [];
  const pushChildren = (children: SpanNode[], prefix: string, topLevel: boolean): void => {
    for (let i = children.length - 1; i >= 0; i--) {
      const last = i === children.length - 1;
      const node = children[i] as SpanNode;
      if (topLevel) stack.push({ node, prefix: '', branch: '', childPrefix: '' });
      else
        stack.push({
          node,
          prefix,
          branch: last ? '└── ' : '├── ',
          childPrefix: prefix + (last ? '    ' : '│   '),
        });
    }
  };
  if (root.span) stack.push({ node: root, prefix: '', branch: '', childPrefix: '' });
  else pushChildren(root.children, '', true);
  for (let item = stack.pop(); item; item = stack.pop()) {
    lines.push(item.prefix + item.branch + describeSpan(spanOf(item.node), showDurations, label));
    pushChildren(item.node.children, item.childPrefix, false);
  }
  return lines.join('\n');
}

/** A span's duration for people: ns below 1 µs, µs below 0.1 ms, ms below 10 s, then s. */
export function formatDuration(span: Pick<Span, 'startTimeUnixNano' | 'endTimeUnixNano'>): string {
  const delta = span.endTimeUnixNano - span.startTimeUnixNano;
  const ns = delta > 0n ? Number(delta) : 0;
  if (ns < 1_000) return `${ns} ns`;
  if (ns < 100_000) return `${(ns / 1_000).toFixed(1)} µs`;
  if (ns < 10_000_000_000) return `${(ns / 1_000_000).toFixed(1)} ms`;
  return `${(ns / 1_000_000_000).toFixed(1)} s`;
}

const MAX_MESSAGE_CHARS = 200;

function describeSpan(span: Span, showDuration: boolean, label: (span: Span) => string): string {
  let text = `${printable(span.name)} (${printable(label(span))})`;
  if (showDuration) text += ` ${formatDuration(span)}`;
  if (span.status === SpanStatus.ERROR) {
    let message = printable(span.statusMessage);
    if (message.length > MAX_MESSAGE_CHARS) message = `${message.slice(0, MAX_MESSAGE_CHARS)}…`;
    text += message ? `  ✗ ${message}` : '  ✗';
  }
  return text;
}

function sourceName(source: SpanSource): string {
  switch (source) {
    case SpanSource.HOST:
      return 'host';
    case SpanSource.CONTAINER:
      return 'container';
    default:
      return 'unknown';
  }
}

// Names and messages come from untrusted code and end up in a terminal: a newline would break
// the tree and an escape sequence could rewrite the screen, so line breaks become spaces and
// other control or bidi-override characters become U+FFFD.
const LINE_BREAKS = /\s*[\r\n\u2028\u2029]+\s*/g;
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

function printable(text: string): string {
  return text.replace(LINE_BREAKS, ' ').replace(UNPRINTABLE, '\ufffd').trim();
}

function compareNodes(a: SpanNode, b: SpanNode): number {
  const x = spanOf(a);
  const y = spanOf(b);
  if (x.startTimeUnixNano !== y.startTimeUnixNano) return x.startTimeUnixNano < y.startTimeUnixNano ? -1 : 1;
  // Plain code-unit comparison rather than localeCompare: the order must not depend on locale.
  if (x.name !== y.name) return x.name < y.name ? -1 : 1;
  if (x.spanId !== y.spanId) return x.spanId < y.spanId ? -1 : 1;
  return 0;
}

/**
 * The nodes that lie on a parent cycle. Each parent chain is walked once (nodes already settled
 * stop the walk), so this is linear in the number of spans.
 */
function cycleMembers(nodes: SpanNode[], parentOf: (node: SpanNode) => SpanNode | undefined): Set<SpanNode> {
  const onCycle = new Set<SpanNode>();
  const settled = new Set<SpanNode>();
  for (const start of nodes) {
    const path: SpanNode[] = [];
    const position = new Map<SpanNode, number>();
    for (let node: SpanNode | undefined = start; node && !settled.has(node); node = parentOf(node)) {
      const seen = position.get(node);
      if (seen !== undefined) {
        for (const member of path.slice(seen)) onCycle.add(member);
        break;
      }
      position.set(node, path.length);
      path.push(node);
    }
    for (const node of path) settled.add(node);
  }
  return onCycle;
}

function spanOf(node: SpanNode): Span {
  if (!node.span) throw new Error('the synthetic root has no span');
  return node.span;
}
