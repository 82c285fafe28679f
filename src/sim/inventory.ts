/** Resources shaped like `tctl get nodes|proxies --format=json` output. */

/** Teleport's server heartbeat TTL (defaults.ServerAnnounceTTL): a record outlives its process by this much. */
export const HEARTBEAT_TTL_MS = 10 * 60_000;

export interface TctlNode {
  readonly kind: 'node';
  readonly sub_kind: 'teleport';
  readonly version: 'v2';
  readonly metadata: {
    readonly name: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly expires: string;
  };
  readonly spec: {
    readonly addr: string;
    readonly hostname: string;
    readonly version: string;
    readonly use_tunnel: true;
    /** Host ids of the proxies the node holds tunnels to (omitempty: only under proxy_peering). */
    readonly proxy_ids?: readonly string[];
  };
}

export interface TctlProxy {
  readonly kind: 'proxy';
  readonly version: 'v2';
  readonly metadata: { readonly name: string; readonly expires: string };
  /** ServerSpecV2: `public_addrs` replaced `public_addr`; `peer_addr` (omitempty) while the peer listener runs. */
  readonly spec: { readonly hostname: string; readonly public_addrs: readonly string[]; readonly version: string; readonly peer_addr?: string };
}

export function tctlNode(n: {
  readonly id: string;
  readonly hostname: string;
  readonly region: string;
  readonly version: string;
  readonly proxyIds: readonly string[];
  readonly expiresAt: number;
}): TctlNode {
  return {
    kind: 'node',
    sub_kind: 'teleport',
    version: 'v2',
    metadata: { name: n.id, labels: { region: n.region }, expires: new Date(n.expiresAt).toISOString() },
    // Tunnelled nodes have no address of their own.
    spec: { addr: '', hostname: n.hostname, version: n.version, use_tunnel: true, ...(n.proxyIds.length ? { proxy_ids: n.proxyIds } : {}) },
  };
}

export function tctlProxy(p: {
  readonly hostId: string;
  readonly name: string;
  readonly publicAddr: string;
  readonly version: string;
  readonly peerAddr: string | undefined;
  readonly expiresAt: number;
}): TctlProxy {
  return {
    kind: 'proxy',
    version: 'v2',
    metadata: { name: p.hostId, expires: new Date(p.expiresAt).toISOString() },
    spec: { hostname: p.name, public_addrs: [p.publicAddr], version: p.version, ...(p.peerAddr ? { peer_addr: p.peerAddr } : {}) },
  };
}
