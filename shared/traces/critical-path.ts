// The critical path of a trace, as Jaeger computes it: from the root, the child that finished
// last is what the parent waited for; before that child started, the child that finished last
// before then; and so on down each chosen child. Spans off the path could have taken longer
// without making the trace longer. Iterative: traces can nest thousands deep.
import type { SpanNode } from '../span-tree';

export function criticalPath(root: SpanNode): Set<string> {
  const onPath = new Set<string>();
  const tops = root.span ? [root] : root.children;
  // Each entry: a node on the path and the time its work had to be done by.
  const stack: { node: SpanNode; until: bigint }[] = tops.map((node) => ({ node, until: node.span?.endTimeUnixNano ?? 0n }));
  for (let item = stack.pop(); item; item = stack.pop()) {
    const { node, until } = item;
    const span = node.span;
    if (!span) continue;
    onPath.add(span.spanId);
    const end = span.endTimeUnixNano < until ? span.endTimeUnixNano : until;
    const byEnd = [...node.children].sort((a, b) => cmp(b.span?.endTimeUnixNano ?? 0n, a.span?.endTimeUnixNano ?? 0n));
    let cursor = end;
    for (const child of byEnd) {
      const c = child.span;
      if (!c) continue;
      // A child that ended after the cursor overlaps one already on the path (or outlived its
      // parent): only its part before the cursor counts, and the next chosen one ends before it.
      if (c.startTimeUnixNano >= cursor) continue;
      stack.push({ node: child, until: cursor });
      cursor = c.startTimeUnixNano;
      if (cursor <= span.startTimeUnixNano) break;
    }
  }
  return onPath;
}

function cmp(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
