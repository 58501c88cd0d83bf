// A binary heap of node indexes, best first: higher PRIORITY, then earlier in the DAG file (DAGMan submits ready
// nodes in that order).
export class NodeQueue {
  private readonly heap: number[] = [];
  /** `order`, when given, ranks nodes of equal priority before the DAG's order: higher first (retries first or last). */
  constructor(
    private readonly priority: ArrayLike<number>,
    private readonly order?: ArrayLike<number>,
  ) {}

  get size(): number {
    return this.heap.length;
  }

  peek(): number | undefined {
    return this.heap[0];
  }

  push(node: number): void {
    const h = this.heap;
    h.push(node);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(node, h[p]!)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = node;
  }

  pop(): number | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length === 0 || last === undefined) return top;
    let i = 0;
    const n = h.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.before(h[r]!, h[l]!) ? r : l;
      if (!this.before(h[c]!, last)) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = last;
    return top;
  }

  private before(a: number, b: number): boolean {
    const pa = this.priority[a]!;
    const pb = this.priority[b]!;
    if (pa !== pb) return pa > pb;
    const oa = this.order?.[a] ?? 0;
    const ob = this.order?.[b] ?? 0;
    return oa !== ob ? oa > ob : a < b;
  }
}
