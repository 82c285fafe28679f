import { loadKnown, type FleetSnapshot, type ProxyObservation } from '../model/snapshot.js';

/** One sample: when it was observed (epoch ms, the controller's clock) and the sessions then; null when the load was unknown. */
export interface HistoryPoint {
  readonly at: number;
  readonly sessions: number | null;
}

export interface HistorySeries {
  readonly name: string;
  /** Oldest first, none older than the window before the newest snapshot. */
  readonly points: readonly HistoryPoint[];
}

export interface HistoryView {
  readonly windowMs: number;
  /** At most one point per step per series (the last observation in it). */
  readonly stepMs: number;
  /** The newest snapshot's time; undefined before the first. */
  readonly latestAt?: number;
  readonly proxies: readonly (HistorySeries & { readonly region: string })[];
  readonly regions: readonly HistorySeries[];
}

export interface SessionHistory {
  record(snapshot: FleetSnapshot): void;
  view(): HistoryView;
  /** Slots each series holds at most: the ring's size. */
  readonly capacity: number;
}

export interface SessionHistoryOptions {
  /** Default: one hour. */
  readonly windowMs?: number;
  /** Default: 120 (one point per 30 s over an hour). */
  readonly capacity?: number;
}

/** A fixed-size ring of points, one per step: a later sample in the same step replaces the earlier. */
class Ring {
  private readonly at: Float64Array;
  private readonly sessions: Float64Array;
  private next = 0;
  private count = 0;

  constructor(
    private readonly capacity: number,
    private readonly stepMs: number,
  ) {
    this.at = new Float64Array(capacity);
    this.sessions = new Float64Array(capacity);
  }

  get newest(): number | undefined {
    return this.count === 0 ? undefined : this.at[(this.next - 1 + this.capacity) % this.capacity];
  }

  push(at: number, sessions: number | null): void {
    const newest = this.newest;
    // A clock that went back (a restarted simulation) starts the series again.
    if (newest !== undefined && at < newest) this.count = 0;
    const sameStep = newest !== undefined && at >= newest && Math.floor(at / this.stepMs) === Math.floor(newest / this.stepMs);
    const slot = sameStep ? (this.next - 1 + this.capacity) % this.capacity : this.next;
    this.at[slot] = at;
    // NaN stands for unknown: a Float64Array holds no null.
    this.sessions[slot] = sessions ?? Number.NaN;
    if (sameStep) return;
    this.next = (this.next + 1) % this.capacity;
    this.count = Math.min(this.capacity, this.count + 1);
  }

  points(since: number): HistoryPoint[] {
    const out: HistoryPoint[] = [];
    for (let i = this.count; i > 0; i--) {
      const slot = (this.next - i + this.capacity) % this.capacity;
      const at = this.at[slot] ?? 0;
      const v = this.sessions[slot] ?? Number.NaN;
      if (at >= since) out.push({ at, sessions: Number.isNaN(v) ? null : v });
    }
    return out;
  }
}

/** The count the fleet view shows: none for a proxy in rotation whose page could not be read (see fleetView). */
function knownSessions(o: ProxyObservation): number | null {
  return o.metrics && !(o.ready && !loadKnown(o)) ? o.sessionsTotal : null;
}

/**
 * Sessions per proxy and per region over the last window, sampled from each observation snapshot,
 * for the dashboard's sparklines. Memory is bounded: one ring of `capacity` points per series, and
 * a series not observed for a whole window is dropped (a proxy or region removed from the fleet).
 */
export function createSessionHistory(options: SessionHistoryOptions = {}): SessionHistory {
  const windowMs = options.windowMs ?? 3_600_000;
  const capacity = options.capacity ?? 120;
  const stepMs = windowMs / capacity;
  const proxies = new Map<string, { region: string; ring: Ring }>();
  const regions = new Map<string, Ring>();
  let latestAt: number | undefined;
  // Every open dashboard asks after each snapshot: one view per snapshot serves them all.
  let cached: HistoryView | undefined;

  const ringOf = <V>(map: Map<string, V>, name: string, make: () => V): V => {
    const found = map.get(name);
    if (found) return found;
    const made = make();
    map.set(name, made);
    return made;
  };
  const stale = (ring: Ring, now: number): boolean => (ring.newest ?? -Infinity) < now - windowMs;

  return {
    capacity,
    record(snapshot) {
      const at = Date.parse(snapshot.observedAt);
      if (Number.isNaN(at)) return;
      latestAt = at;
      cached = undefined;
      const byRegion = new Map<string, number>();
      for (const o of snapshot.proxies) {
        const n = knownSessions(o);
        const entry = ringOf(proxies, o.name, () => ({ region: o.region, ring: new Ring(capacity, stepMs) }));
        entry.region = o.region;
        entry.ring.push(at, n);
        byRegion.set(o.region, (byRegion.get(o.region) ?? 0) + (n ?? 0));
      }
      for (const [region, n] of byRegion) ringOf(regions, region, () => new Ring(capacity, stepMs)).push(at, n);
      for (const [name, p] of proxies) if (stale(p.ring, at)) proxies.delete(name);
      for (const [name, ring] of regions) if (stale(ring, at)) regions.delete(name);
    },
    view() {
      if (cached) return cached;
      const since = latestAt === undefined ? 0 : latestAt - windowMs;
      const byName = <T extends { name: string }>(a: T, b: T): number => a.name.localeCompare(b.name);
      cached = {
        windowMs,
        stepMs,
        ...(latestAt === undefined ? {} : { latestAt }),
        proxies: [...proxies].map(([name, p]) => ({ name, region: p.region, points: p.ring.points(since) })).sort(byName),
        regions: [...regions].map(([name, ring]) => ({ name, points: ring.points(since) })).sort(byName),
      };
      return cached;
    },
  };
}
