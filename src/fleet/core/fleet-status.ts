import { setCondition } from '../../model/conditions.js';
import type { ProxyFleet, ProxyFleetStatus, RegionStatus } from '../../model/fleet.js';
import { loadKnown, type FleetSnapshot } from '../../model/snapshot.js';

const list = (names: readonly string[]): string => `${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''}`;

/**
 * The status a ProxyFleet should have, given what the observer saw.
 * Pure: the same inputs give the same status, so an unchanged fleet is never re-written.
 */
export function computeFleetStatus(
  fleet: ProxyFleet,
  snapshot: FleetSnapshot | undefined,
  nowIso: string,
): ProxyFleetStatus {
  const generation = fleet.metadata.generation ?? 0;
  const previous = fleet.status?.conditions ?? [];
  const observedThisSpec = snapshot?.fleet?.generation === generation;

  if (!snapshot || !observedThisSpec) {
    let conditions = setCondition(previous, { type: 'Observed', status: 'Unknown', reason: 'Pending', message: 'Waiting for the first observation of this spec', observedGeneration: generation }, nowIso);
    conditions = setCondition(conditions, { type: 'Ready', status: 'Unknown', reason: 'Pending', message: 'Not observed yet', observedGeneration: generation }, nowIso);
    return { ...fleet.status, observedGeneration: generation, phase: 'Pending', conditions };
  }

  const byName = new Map(snapshot.proxies.map((p) => [p.name, p]));
  const regions: RegionStatus[] = fleet.spec.regions.map((r) => {
    const members = fleet.spec.proxies.filter((p) => p.region === r.name);
    // Session counts move every scrape: they belong in metrics and the API, not in status,
    // which is written only when something an operator acts on changes.
    const ready = members.filter((p) => byName.get(p.name)?.ready).length;
    return { name: r.name, proxies: members.length, ready };
  });
  const readyProxies = regions.reduce((n, r) => n + r.ready, 0);
  const down = fleet.spec.proxies.filter((p) => !byName.get(p.name)?.up).map((p) => p.name);
  const dark = regions.filter((r) => r.proxies > 0 && r.ready === 0).map((r) => r.name);
  // In rotation, yet without a session count: the login redirect prefers proxies of known load.
  const unknownLoad = fleet.spec.proxies.filter((p) => {
    const o = byName.get(p.name);
    return o?.ready && !loadKnown(o);
  });
  const unknownNote = unknownLoad.length ? `; load unknown (ready, session counts unread): ${list(unknownLoad.map((p) => p.name))}` : '';

  let conditions = setCondition(
    previous,
    down.length
      ? { type: 'Observed', status: 'False', reason: 'ScrapeFailed', message: `Cannot scrape ${down.length} of ${fleet.spec.proxies.length} proxies: ${list(down)}${unknownNote}`, observedGeneration: generation }
      : { type: 'Observed', status: 'True', reason: 'AllScraped', message: `All ${fleet.spec.proxies.length} proxies scraped${unknownNote}`, observedGeneration: generation },
    nowIso,
  );
  conditions = setCondition(
    conditions,
    dark.length
      ? { type: 'Ready', status: 'False', reason: 'RegionWithoutReadyProxy', message: `No ready proxy in ${dark.join(', ')}`, observedGeneration: generation }
      : { type: 'Ready', status: 'True', reason: 'EveryRegionServing', message: `${readyProxies} of ${fleet.spec.proxies.length} proxies ready`, observedGeneration: generation },
    nowIso,
  );
  // Phase is derived from the conditions, never stored on its own.
  const phase = dark.length ? 'Degraded' : readyProxies < fleet.spec.proxies.length ? 'Degraded' : 'Healthy';
  return { observedGeneration: generation, phase, proxies: fleet.spec.proxies.length, readyProxies, regions, conditions };
}
