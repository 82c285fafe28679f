import { canaryRouteProxies } from '../canary/core/canary-runs.js';
import { resolveCanarySpec } from '../canary/core/canary-settings.js';
import type { CanaryPhase, ProxyCanary } from '../model/canary.js';
import type { ProxyFleet } from '../model/fleet.js';
import type { FleetSnapshot } from '../model/snapshot.js';
import { buildRoutingTable, type RoutingTable } from '../redirect/core/routing-table.js';

/** Canary phases in which proxies may be on the build. */
const LIVE_CANARY_PHASES: ReadonlySet<CanaryPhase> = new Set(['Deploying', 'Baking', 'Held', 'Promoting', 'RollingBack']);

/** The login redirect's routing table for the observed fleet; undefined before its first observation. */
export function routingFor(fleet: ProxyFleet | undefined, snapshot: FleetSnapshot | undefined, outOfRotation: ReadonlySet<string>, canaries: Iterable<ProxyCanary>): RoutingTable | undefined {
  if (!fleet || !snapshot) return undefined;
  // Proxies on a canary's build (not those seen on another version since): under optInOnly only opted-in users reach them.
  const canaryRoutes = [...canaries]
    .filter((c) => c.status?.phase && LIVE_CANARY_PHASES.has(c.status.phase))
    .map((c) => ({ name: c.metadata.name, proxies: canaryRouteProxies(c, snapshot.proxies), optInOnly: resolveCanarySpec(c.spec).optInOnly }));
  return buildRoutingTable(fleet.spec, snapshot, { outOfRotation, canaries: canaryRoutes, ...(fleet.spec.redirect?.pins ? { pins: fleet.spec.redirect.pins } : {}) });
}
