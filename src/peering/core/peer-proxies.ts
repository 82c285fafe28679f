import type { Proxy } from '../../model/fleet.js';
import type { FleetSnapshot } from '../../model/snapshot.js';
import type { PeerProxy } from './peering-input.js';

/** Fleet proxies with what the last observation says: up (tunnels live), eligible (ready, not out of rotation). */
export function peerProxies(proxies: readonly Proxy[], snapshot: FleetSnapshot | undefined, outOfRotation: ReadonlySet<string>): PeerProxy[] {
  const seen = new Map(snapshot?.proxies.map((o) => [o.name, o]));
  return proxies.map((p) => {
    const o = seen.get(p.name);
    const up = o?.up ?? false;
    return { name: p.name, region: p.region, up, eligible: up && (o?.ready ?? false) && !outOfRotation.has(p.name) };
  });
}

/** Changes whenever a proxy's part in a plan could. */
export function proxiesSignature(proxies: readonly PeerProxy[]): string {
  return proxies.map((p) => `${p.name}:${p.region}:${p.up ? 1 : 0}${p.eligible ? 1 : 0}`).join(',');
}
