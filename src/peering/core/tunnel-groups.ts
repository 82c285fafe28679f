import type { PeerNode } from './peering-input.js';

/**
 * Nodes grouped by the exact set of proxies holding their tunnels. 100,000 nodes with two tunnels
 * each fall into a few thousand groups, and everything the planner asks is per group.
 */
export interface TunnelGroup {
  readonly key: string;
  /** Indices into the proxy list, ascending. */
  readonly holders: readonly number[];
  /** Indices into the node list. */
  readonly nodes: number[];
}

export interface TunnelGroups {
  readonly groups: TunnelGroup[];
  readonly byKey: Map<string, TunnelGroup>;
  /** Node index → its group, or undefined (Unknown, or no tunnel to a fleet proxy). */
  readonly groupOf: (TunnelGroup | undefined)[];
}

/** The group key of a set of proxy indices (sorted, deduplicated). */
export function holderKey(holders: readonly number[]): string {
  return holders.join(',');
}

/** Proxy names → sorted unique indices; names not in the fleet are dropped (reported by the inventory reader). */
export function holdersOf(proxies: readonly string[], indexOf: ReadonlyMap<string, number>): number[] {
  const out: number[] = [];
  for (const p of proxies) {
    const i = indexOf.get(p);
    if (i !== undefined && !out.includes(i)) out.push(i);
  }
  return out.sort((a, b) => a - b);
}

export function groupNodes(nodes: readonly PeerNode[], indexOf: ReadonlyMap<string, number>): TunnelGroups {
  const groups: TunnelGroup[] = [];
  const byKey = new Map<string, TunnelGroup>();
  const groupOf: (TunnelGroup | undefined)[] = new Array<TunnelGroup | undefined>(nodes.length);
  nodes.forEach((n, i) => {
    if (!n.proxies) return;
    const holders = holdersOf(n.proxies, indexOf);
    if (!holders.length) return;
    const key = holderKey(holders);
    let g = byKey.get(key);
    if (!g) {
      g = { key, holders, nodes: [] };
      byKey.set(key, g);
      groups.push(g);
    }
    g.nodes.push(i);
    groupOf[i] = g;
  });
  return { groups, byKey, groupOf };
}
