// The first rows of a trace's display order from its rows' ids, parents, names and start times
// alone (no span JSON), for the head a big trace paints first. It is the order of
// shared/span-tree.ts (buildSpanTree + flattenTree, what the view lists), computed without
// building the whole tree: parents by index, parent cycles found in one pass, and only the
// child lists the first `limit` rows pass through are sorted. tree-order.test.ts holds it to
// buildSpanTree's order on random forests with orphans, cycles and equal start times.

/** span_id, parent_span_id, name, start and end nanoseconds as decimal text (INTEGER columns cast to TEXT). */
export type LightRow = [spanId: string, parentSpanId: string, name: string, startNs: string, endNs: string];

export interface TreeOrder {
  /** The first span ids in display order. */
  order: string[];
  /** The earliest non-zero start and the latest end, as the view's model computes them (decimal). */
  startNs: string;
  endNs: string;
}

/**
 * Decimal nanoseconds as the view reads them: anything else is 0. An INTEGER cast to TEXT has
 * no leading zeros; a time past 2^63 ns (year 2262) was stored as REAL and reads as 0 here
 * (the whole trace, when it arrives, orders by its exact text).
 */
function canonical(text: string): string {
  return /^\d{1,20}$/.test(text) ? text : '0';
}

/** Compares canonical decimal strings as numbers: the shorter is smaller, else by characters. */
function compareDecimal(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function treeOrder(rows: readonly LightRow[], limit: number): TreeOrder {
  const n = rows.length;
  const starts = rows.map((r) => canonical(r[3]));
  let startNs = '0';
  let endNs = '0';
  for (let i = 0; i < n; i++) {
    const start = starts[i] as string;
    if (start !== '0' && (startNs === '0' || compareDecimal(start, startNs) < 0)) startNs = start;
    const end = canonical((rows[i] as LightRow)[4]);
    if (compareDecimal(end, endNs) > 0) endNs = end;
  }
  if (compareDecimal(endNs, startNs) < 0) endNs = startNs;

  // Parents by index (the first row of an id is the one children name, as in buildSpanTree).
  const index = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const id = (rows[i] as LightRow)[0];
    if (!index.has(id)) index.set(id, i);
  }
  const parent = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    const [spanId, parentSpanId] = rows[i] as LightRow;
    if (parentSpanId === '' || parentSpanId === spanId) continue;
    const p = index.get(parentSpanId);
    if (p !== undefined && p !== i) parent[i] = p;
  }
  // Spans on a parent cycle hang under the root (buildSpanTree's cycleMembers): each parent
  // chain is walked once; meeting the walk's own path closes a cycle.
  const state = new Uint8Array(n); // 0 unseen, 1 on the current walk, 2 settled
  const onCycle = new Uint8Array(n);
  const path: number[] = [];
  for (let s = 0; s < n; s++) {
    path.length = 0;
    let node = s;
    while (node !== -1 && state[node] === 0) {
      state[node] = 1;
      path.push(node);
      node = parent[node] as number;
    }
    if (node !== -1 && state[node] === 1) for (let k = path.indexOf(node); k < path.length; k++) onCycle[path[k] as number] = 1;
    for (const m of path) state[m] = 2;
  }
  // Children lists, flat (counts, offsets, then the members); -1 stands for the synthetic root.
  const parentOf = (i: number): number => (onCycle[i] ? -1 : (parent[i] as number));
  const count = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    const slot = parentOf(i) + 1;
    count[slot] = (count[slot] as number) + 1;
  }
  const offset = new Int32Array(n + 2);
  for (let i = 0; i <= n; i++) offset[i + 1] = (offset[i] as number) + (count[i] as number);
  const fill = offset.slice(0, n + 1);
  const members = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const slot = parentOf(i) + 1;
    const at = fill[slot] as number;
    members[at] = i;
    fill[slot] = at + 1;
  }

  const compare = (a: number, b: number): number => {
    const byStart = compareDecimal(starts[a] as string, starts[b] as string);
    if (byStart !== 0) return byStart;
    const x = rows[a] as LightRow;
    const y = rows[b] as LightRow;
    if (x[2] !== y[2]) return x[2] < y[2] ? -1 : 1;
    if (x[0] !== y[0]) return x[0] < y[0] ? -1 : 1;
    return 0;
  };
  const childrenOf = (slot: number): number[] => Array.from(members.subarray(offset[slot] as number, offset[slot + 1] as number)).sort(compare);

  // Pre-order, stopping at the limit: only the lists passed through are sorted.
  const order: string[] = [];
  const stack = childrenOf(0).reverse();
  while (order.length < limit && stack.length) {
    const node = stack.pop() as number;
    order.push((rows[node] as LightRow)[0]);
    const children = childrenOf(node + 1);
    for (let k = children.length - 1; k >= 0; k--) stack.push(children[k] as number);
  }
  return { order, startNs, endNs };
}
