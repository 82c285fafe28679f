/** What the peering planner works on: plain data from the fleet, the snapshot and the inventory. */

/** One fleet proxy as the planner sees it. */
export interface PeerProxy {
  readonly name: string;
  readonly region: string;
  /** The last scrape answered: the tunnels it holds are live. */
  readonly up: boolean;
  /** Ready and not out of rotation: may be chosen as a link target, and serves its region's users. */
  readonly eligible: boolean;
}

/** One node of the inventory, its tunnels already mapped to fleet proxies. */
export interface PeerNode {
  readonly id: string;
  readonly hostname: string;
  /** From the configured label; undefined when the node has none. */
  readonly region?: string;
  /** Names of the fleet proxies holding its tunnels; undefined: no proxy_ids (Unknown, never guessed). */
  readonly proxies?: readonly string[];
}

/** A link users of `from` (a region) take to nodes tunnelled to `to` (a proxy). */
export interface LinkKey {
  readonly from: string;
  readonly to: string;
}

export const linkId = (l: LinkKey): string => `${l.from}->${l.to}`;

/** By `from`, then `to`: the order links and allow-list rules are listed in. */
export function compareLinks(a: LinkKey, b: LinkKey): number {
  if (a.from !== b.from) return a.from < b.from ? -1 : 1;
  return a.to < b.to ? -1 : a.to > b.to ? 1 : 0;
}
