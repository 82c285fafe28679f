/** A binary min-heap of numbers: the session end times of one kind. */
export class MinHeap {
  private readonly items: number[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): number | undefined {
    return this.items[0];
  }

  push(value: number): void {
    const items = this.items;
    let i = items.length;
    items.push(value);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent] as number;
      if (p <= value) break;
      items[i] = p;
      i = parent;
    }
    items[i] = value;
  }

  pop(): number | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    const n = items.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const lv = items[l] as number;
      const rv = r < n ? (items[r] as number) : Infinity;
      const child = rv < lv ? r : l;
      const cv = rv < lv ? rv : lv;
      if (last <= cv) break;
      items[i] = cv;
      i = child;
    }
    items[i] = last;
    return top;
  }

  /** Empties the heap; returns how many values it held. */
  clear(): number {
    const n = this.items.length;
    this.items.length = 0;
    return n;
  }
}
