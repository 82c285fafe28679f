import { isDeepStrictEqual } from 'node:util';
import type { ProxyPeeringStatus } from '../../model/peering.js';
import type { FleetSnapshot } from '../../model/snapshot.js';

type DialErrors = NonNullable<ProxyPeeringStatus['peerDialErrors']>;

/**
 * proxy_peer_client_dial_error_total judged against the observation that last changed it: who
 * grew (a restart resets the counter: no growth). Judged once per snapshot; a new snapshot that
 * changes nothing keeps the record as it is (no status write each observation).
 */
export function judgeDialErrors(before: DialErrors | undefined, snapshot: FleetSnapshot | undefined): DialErrors | undefined {
  if (!snapshot || before?.observedAt === snapshot.observedAt) return before;
  const counts: Record<string, number> = {};
  const grew: string[] = [];
  for (const o of snapshot.proxies) {
    const v = o.metrics?.peerDialErrors;
    if (v === undefined) continue;
    counts[o.name] = v;
    const prev = before?.counts[o.name];
    if (prev !== undefined && v > prev) grew.push(`${o.name} (+${v - prev})`);
  }
  if (before && !grew.length && !before.grew.length && isDeepStrictEqual(before.counts, counts)) return before;
  return { observedAt: snapshot.observedAt, counts, grew };
}
