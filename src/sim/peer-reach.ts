/**
 * The reach rule of proxy peering, over plain data: which proxy can dial a node, and which
 * peer links a proxy holds open.
 */

/** Teleport's error_type values of proxy_peer_client_dial_error_total that the simulator produces. */
export const PEER_DIAL_ERRORS = ['PROXIES_UNREACHABLE', 'TUNNEL_NOT_FOUND'] as const;
export type PeerDialError = (typeof PEER_DIAL_ERRORS)[number];

/** A proxy as peering sees it. */
export interface PeerSide {
  readonly name: string;
  readonly region: string;
  readonly hostId: string;
  /** The process runs and takes new connections (a draining one closed its listeners). */
  readonly up: boolean;
  /** peer_public_addr while its peer listener runs. */
  readonly peerAddr: string | undefined;
  /** It runs a peer client: it started under proxy_peering. */
  readonly peerClient: boolean;
}

export interface PeerRules {
  /** tunnel_strategy is proxy_peering. */
  readonly peering: boolean;
  /** The allow-list opens `from` → `to` (names). */
  allows(from: string, to: string): boolean;
}

export type NodeReach =
  | { readonly reachable: true; readonly via: 'tunnel' }
  | { readonly reachable: true; readonly via: 'peer'; readonly peer: string }
  | { readonly reachable: false; readonly via: null; readonly reason: string; readonly dialError?: PeerDialError };

/** Why `from` cannot dial `to`'s peer listener, or undefined when it can. */
export function peerLinkBlocked(from: PeerSide, to: PeerSide, rules: PeerRules): string | undefined {
  if (!to.up) return 'not running';
  if (to.peerAddr === undefined) return 'no peer listener';
  // One site, one network: only links between regions go through the firewall.
  if (to.region !== from.region && !rules.allows(from.name, to.name)) return `${from.name} → ${to.name} is not on the allow-list`;
  return undefined;
}

/**
 * A dial from proxy `from` to a node whose tunnels `holders` hold: straight down a tunnel
 * `from` holds, else (only with proxy peering) through the first holder whose peer listener
 * `from` can reach, own region first. `dialError` is set only for a dial that needed a peer.
 */
export function reachNode(from: PeerSide, node: string, holders: readonly PeerSide[], rules: PeerRules): NodeReach {
  if (!from.up) return { reachable: false, via: null, reason: `proxy ${from.name} is not running` };
  if (holders.some((h) => h.name === from.name)) return { reachable: true, via: 'tunnel' };
  if (!rules.peering) {
    return { reachable: false, via: null, reason: `proxy ${from.name} holds no tunnel of node ${node}, and proxy peering is off (tunnel_strategy agent_mesh)` };
  }
  if (!from.peerClient) {
    return { reachable: false, via: null, reason: `proxy ${from.name} holds no tunnel of node ${node}, and has no peer client (it started before tunnel_strategy proxy_peering: restart it)` };
  }
  if (holders.length === 0) {
    return { reachable: false, via: null, reason: `node ${node} holds no tunnel to any proxy`, dialError: 'TUNNEL_NOT_FOUND' };
  }
  const ordered = [...holders].sort((a, b) => Number(a.region !== from.region) - Number(b.region !== from.region) || a.name.localeCompare(b.name));
  const blocked: string[] = [];
  for (const h of ordered) {
    const why = peerLinkBlocked(from, h, rules);
    if (why === undefined) return { reachable: true, via: 'peer', peer: h.name };
    blocked.push(`${h.name}: ${why}`);
  }
  return {
    reachable: false,
    via: null,
    reason: `no proxy holding a tunnel of node ${node} is reachable from ${from.name} (${blocked.join('; ')})`,
    dialError: 'PROXIES_UNREACHABLE',
  };
}

export interface PeerConnection {
  readonly localId: string;
  readonly remoteId: string;
  readonly state: 'READY' | 'TRANSIENT_FAILURE';
}

/**
 * proxy_peer_client_connections of `from`: one series per other proxy that is up, READY when
 * its listener is reachable, else TRANSIENT_FAILURE (the client keeps retrying). None without a
 * peer client (the family exists only where one was created, at a start under proxy_peering).
 */
export function peerConnections(from: PeerSide, fleet: readonly PeerSide[], rules: PeerRules): PeerConnection[] {
  if (!from.peerClient) return [];
  return fleet
    .filter((to) => to.name !== from.name && to.up)
    .map((to): PeerConnection => ({ localId: from.hostId, remoteId: to.hostId, state: peerLinkBlocked(from, to, rules) === undefined ? 'READY' : 'TRANSIENT_FAILURE' }));
}
