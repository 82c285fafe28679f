import type { RegionCoverage } from '../../model/peering.js';
import { linkId, type LinkKey, type PeerProxy } from './peering-input.js';
import type { TunnelGroup } from './tunnel-groups.js';

/**
 * Whether users of `region` reach a node whose tunnels are held by `holders`: directly (a live
 * tunnel to a proxy of the region; its proxies reach each other) or through an active link from
 * the region to a live proxy holding the tunnel.
 */
export function reaches(proxies: readonly PeerProxy[], holders: readonly number[], region: string, active: ReadonlySet<string>): boolean {
  for (const h of holders) {
    const p = proxies[h] as PeerProxy;
    if (p.up && (p.region === region || active.has(linkId({ from: region, to: p.name })))) return true;
  }
  return false;
}

/** Per region users are served from: nodes with a live tunnel, and how many of them it reaches. */
export function coverage(proxies: readonly PeerProxy[], groups: readonly TunnelGroup[], active: readonly LinkKey[]): RegionCoverage[] {
  const activeSet = new Set(active.map(linkId));
  const regions = [...new Set(proxies.filter((p) => p.eligible).map((p) => p.region))].sort();
  const live = groups.filter((g) => g.holders.some((h) => (proxies[h] as PeerProxy).up));
  const total = live.reduce((n, g) => n + g.nodes.length, 0);
  return regions.map((region) => {
    let reachable = 0;
    for (const g of live) if (reaches(proxies, g.holders, region, activeSet)) reachable += g.nodes.length;
    return { region, nodes: total, reachable, ratio: total ? reachable / total : 1 };
  });
}
