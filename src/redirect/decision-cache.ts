import { BoundedCache } from '../runtime/bounded-cache.js';
import { fnv1a32 } from './core/string-hash.js';

/** Fingerprints of keys offered once (a power of two): 512 KiB, the last 100,000 or so one-off clients. */
const OFFERED_SLOTS = 1 << 17;

/**
 * Remembers decisions per client for one routing table's decision key and one GeoIP database:
 * the table is rebuilt on every observation, and a rebuild that changed what decisions rest on
 * (a region's candidates or state, pins, canaries) empties the cache, as does a reloaded
 * database, so no decision outlives what it was based on. Bounded, by generations (see
 * BoundedCache): with distinct clients nearly every request inserts a key seen once, and
 * evicting the oldest key of one Map made each insertion skip every key deleted before it
 * (tens of microseconds a request once the cache was full). A key is kept the second time it is
 * offered: most logins come from an address not seen for hours, and keeping each of those cost
 * more (Map growth, generations promoted and dropped, garbage collection) than the answers the
 * cache saves; a client that comes back soon is remembered from its second request on.
 */
export class DecisionCache<T> {
  private table: object | undefined;
  private tableKey: string | undefined;
  private geo: object | undefined;
  private entries: BoundedCache<T>;
  private readonly offered = new Uint32Array(OFFERED_SLOTS);

  constructor(private readonly maxEntries: number) {
    this.entries = new BoundedCache<T>(Math.max(2, maxEntries));
  }

  /** `geo`: the database decisions are looked up in (undefined: none loaded). */
  get(table: { readonly decisionKey: string }, geo: object | undefined, key: string): T | undefined {
    if (geo !== this.geo) {
      this.geo = geo;
      this.clear();
    }
    if (table !== this.table) {
      this.table = table;
      // Only a changed key clears: comparing keys once per table keeps the request path a Map lookup.
      if (table.decisionKey !== this.tableKey) {
        this.tableKey = table.decisionKey;
        this.clear();
        return undefined;
      }
    }
    return this.entries.get(key);
  }

  /** Keeps the value if `key` was offered before (recently; a fingerprint may be overwritten by another key's). */
  set(key: string, value: T): void {
    const h = fnv1a32(key);
    const slot = h & (OFFERED_SLOTS - 1);
    if (this.offered[slot] !== h) {
      this.offered[slot] = h;
      return;
    }
    this.entries.set(key, value);
  }

  private clear(): void {
    if (this.entries.size > 0) this.entries = new BoundedCache<T>(Math.max(2, this.maxEntries));
  }
}
