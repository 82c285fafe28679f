import type { Prng } from './prng.js';

/**
 * Background dials to nodes while proxy peering is on: a fixed, modest rate per proxy, apart
 * from the session model, so the peer error counters move without changing session counts.
 * Only a proxy that is running and in rotation dials (users reach it); the dials are judged
 * against the fleet as it stands at the end of each advance.
 */
export const DIALS_PER_PROXY_PER_MINUTE = 1;
/** Most users reach nodes of their own region; the rest go anywhere. */
export const OWN_REGION_DIAL_SHARE = 0.8;
const MINUTE_MS = 60_000;

/** How many dials one proxy makes in `dtMs` of sim time (Poisson). */
export function dialCount(rng: Prng, dtMs: number): number {
  return dtMs > 0 ? rng.poisson((DIALS_PER_PROXY_PER_MINUTE * dtMs) / MINUTE_MS) : 0;
}

/** A node to dial from a proxy of `region`: its own region's mostly, another's otherwise. */
export function pickDialTarget<T extends { readonly region: string }>(rng: Prng, region: string, nodes: readonly T[]): T | undefined {
  const own = nodes.filter((n) => n.region === region);
  const other = nodes.filter((n) => n.region !== region);
  if (own.length && (!other.length || rng.chance(OWN_REGION_DIAL_SHARE))) return rng.pick(own);
  return rng.pick(other);
}
