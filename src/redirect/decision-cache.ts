/**
 * Remembers decisions per client for one routing table: the table is rebuilt on every
 * observation, so a new table empties the cache and no decision outlives what it was based on.
 * Bounded; the oldest entry goes first.
 */
export class DecisionCache<T> {
  private table: object | undefined;
  private readonly entries = new Map<string, T>();

  constructor(private readonly maxEntries: number) {}

  get(table: object, key: string): T | undefined {
    if (table !== this.table) {
      this.table = table;
      this.entries.clear();
      return undefined;
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
