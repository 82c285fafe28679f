/**
 * A size-bounded cache: GeoIP answers, the redirect's deep links, and (its get/set shape is
 * what the MaxMind reader takes) each reader's decoded values by data-section offset.
 *
 * Two generations instead of a strict LRU (as quick-lru does): a hit in the old
 * generation moves the entry to the new one, and a full new generation replaces the
 * old one wholesale. Every operation is O(1); an LRU on one Map that deletes and
 * re-inserts on each hit makes V8 skip ever more deleted slots to find the oldest key.
 */
export class BoundedCache<V> {
  private young = new Map<string | number, V>();
  private old = new Map<string | number, V>();
  private readonly generationSize: number;

  /** Holds at least `maxEntries / 2` and at most `maxEntries` entries once warm. */
  constructor(maxEntries: number) {
    if (!(Number.isInteger(maxEntries) && maxEntries >= 2)) throw new Error(`maxEntries must be an integer >= 2, got ${maxEntries}`);
    this.generationSize = Math.floor(maxEntries / 2);
  }

  get(key: string | number): V | undefined {
    const value = this.young.get(key);
    if (value !== undefined) return value;
    const older = this.old.get(key);
    if (older !== undefined) {
      this.old.delete(key);
      this.add(key, older);
    }
    return older;
  }

  set(key: string | number, value: V): void {
    if (this.young.has(key)) this.young.set(key, value);
    else this.add(key, value);
  }

  get size(): number {
    return this.young.size + this.old.size;
  }

  private add(key: string | number, value: V): void {
    this.young.set(key, value);
    if (this.young.size >= this.generationSize) {
      this.old = this.young;
      this.young = new Map();
    }
  }
}
