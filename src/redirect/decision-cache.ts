/**
 * Remembers decisions per client for one routing table's decision key and one GeoIP database:
 * the table is rebuilt on every observation, and a rebuild that changed what decisions rest on
 * (a region's candidates or state, pins, canaries) empties the cache, as does a reloaded
 * database, so no decision outlives what it was based on. Bounded; the oldest entry goes first.
 */
export class DecisionCache<T> {
  private table: object | undefined;
  private tableKey: string | undefined;
  private geo: object | undefined;
  private readonly entries = new Map<string, T>();

  constructor(private readonly maxEntries: number) {}

  /** `geo`: the database decisions are looked up in (undefined: none loaded). */
  get(table: { readonly decisionKey: string }, geo: object | undefined, key: string): T | undefined {
    if (geo !== this.geo) {
      this.geo = geo;
      this.entries.clear();
    }
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
