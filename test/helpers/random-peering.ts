import type { PeerNode, PeerProxy } from '../../src/peering/core/peering-input.js';
import type { RegionPoint } from '../../src/peering/core/plan-links.js';
import { Prng } from '../../src/sim/prng.js';

export interface PeeringWorld {
  readonly regions: RegionPoint[];
  readonly proxies: PeerProxy[];
  readonly nodes: PeerNode[];
}

export interface WorldShape {
  readonly regions: number;
  readonly proxiesPerRegion: number;
  readonly nodes: number;
  /** Tunnels per node (agent_connection_count). */
  readonly tunnels: number;
  /** Share of tunnels landing on another region's proxy. */
  readonly remote: number;
  /** Share of proxies down, and of the rest not eligible (draining or unready). */
  readonly down: number;
  readonly ineligible: number;
  /** Share of nodes without proxy_ids. */
  readonly unknown: number;
}

/** Tunnels for one node: mostly its own region's proxies, some elsewhere. */
export function tunnelsFor(rng: Prng, region: number, shape: WorldShape, proxies: readonly PeerProxy[]): string[] {
  const out = new Set<string>();
  for (let t = 0; t < shape.tunnels; t++) {
    const r = rng.chance(shape.remote) ? rng.int(shape.regions) : region;
    out.add((proxies[r * shape.proxiesPerRegion + rng.int(shape.proxiesPerRegion)] as PeerProxy).name);
  }
  return [...out];
}

/** A seeded fleet of regions on the globe, proxies and nodes with tunnels. */
export function randomWorld(seed: number, shape: WorldShape): PeeringWorld {
  const rng = new Prng(seed);
  const regions = Array.from({ length: shape.regions }, (_, i) => ({ name: `r${String(i).padStart(2, '0')}`, latitude: rng.between(-60, 70), longitude: rng.between(-180, 180) }));
  const proxies: PeerProxy[] = regions.flatMap((r) =>
    Array.from({ length: shape.proxiesPerRegion }, (_, j) => {
      const up = !rng.chance(shape.down);
      return { name: `${r.name}-p${j}`, region: r.name, up, eligible: up && !rng.chance(shape.ineligible) };
    }),
  );
  const nodes: PeerNode[] = Array.from({ length: shape.nodes }, (_, i) => {
    const region = rng.int(shape.regions);
    const base = { id: `n${i}`, hostname: `node-${i}`, region: (regions[region] as RegionPoint).name };
    return rng.chance(shape.unknown) ? base : { ...base, proxies: tunnelsFor(rng, region, shape, proxies) };
  });
  return { regions, proxies, nodes };
}
