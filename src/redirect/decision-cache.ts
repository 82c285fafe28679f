/**
 * Remembers decisions per client for one routing table's decision key: the table is rebuilt on
 * every observation, and a rebuild that changed what decisions rest on (a region's candidates
 * or state, pins, canaries) empties the cache, so no decision outlives what it was based on.
 * Bounded; the oldest entry goes first.
 */
export class DecisionCache<T> {
  private table: object | undefined;
  private tableKey: string | undefined;
  private readonly entries = new Map<string, T>();

  constructor(private readonly maxEntries: number) {}

  get(table: { readonly decisionKey: string }, key: string): T | undefined {
    if (table !== this.table) {
      this.table = table;
      // Only a changed key clears: comparing keys once per table keeps the request path a Map lookup.
      if (table.decisionKey !== this.tableKey) {
        this.tableKey = table.decisionKey;
        this.entries.clear();
        return undefined;
      }
    }
    return this.entries.get(key);
  }

  set(key: string, value: T): void {
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, value);
  }
}
