import type { ProxyFleet } from '../model/fleet.js';
import { keyOf } from '../model/resource.js';
import { loadKnown, type AuthObservation, type FleetSnapshot } from '../model/snapshot.js';
import { formatPath } from '../model/field-error.js';
import type { ManifestProblem } from '../model/store.js';
import type { AuthView, FleetView, ProxyView, ProblemsResponse } from './schemas.js';

function authView(a: AuthObservation | undefined): AuthView | null {
  if (!a) return null;
  return {
    version: a.version ?? null,
    error: a.error ? { ...a.error } : null,
    observedAt: a.observedAt,
    servers: a.servers.map((s) => ({ diagnosticUrl: s.diagnosticUrl, version: s.version ?? null, ready: s.ready, readyzStatus: s.readyzStatus ?? null, error: s.error ? { ...s.error } : null })),
  };
}

/** Joins a fleet's spec with its latest snapshot into what the API and the CLI show. */
export function fleetView(fleet: ProxyFleet, snapshot: FleetSnapshot | undefined): FleetView {
  const observed = new Map(snapshot?.proxies.map((p) => [p.name, p]));
  const proxies: ProxyView[] = fleet.spec.proxies.map((p) => {
    const o = observed.get(p.name);
    const m = o?.metrics;
    // A proxy in rotation whose load is unknown (page unreadable) shows no counts rather than 0 or
    // stale ones; a proxy out of rotation keeps its last known counts (sessions it may still hold).
    const unknown = !o || (o.ready && !loadKnown(o));
    return {
      name: p.name,
      region: p.region,
      publicUrl: p.publicUrl,
      desiredVersion: p.version,
      version: m?.version ?? null,
      up: o?.up ?? false,
      ready: o?.ready ?? false,
      readyzStatus: o?.readyzStatus ?? null,
      processState: m?.processState ?? null,
      sessions: m && !unknown ? { ...m.sessions } : null,
      sessionsTotal: o?.sessionsTotal ?? 0,
      loadKnown: !unknown,
      nodeTunnels: m?.tunnels['node'] ?? 0,
      missingTunnels: m?.missingTunnels ?? 0,
      lastScrapeAt: o?.lastScrapeAt ?? null,
      lastSuccessAt: o?.lastSuccessAt ?? null,
      error: o?.error ? { ...o.error } : null,
    };
  });
  return {
    name: fleet.metadata.name,
    namespace: keyOf(fleet).namespace,
    generation: fleet.metadata.generation ?? 0,
    observedAt: snapshot?.observedAt ?? null,
    phase: fleet.status?.phase ?? 'Pending',
    conditions: [...(fleet.status?.conditions ?? [])],
    auth: fleet.spec.auth ? authView(snapshot?.auth) : null,
    regions: fleet.spec.regions.map((r) => {
      const members = proxies.filter((p) => p.region === r.name);
      return {
        name: r.name,
        displayName: r.displayName ?? r.name,
        timeZone: r.timeZone,
        latitude: r.latitude,
        longitude: r.longitude,
        sessions: members.reduce((n, p) => n + (p.sessions ? p.sessionsTotal : 0), 0),
        readyProxies: members.filter((p) => p.ready).length,
        proxies: members,
      };
    }),
  };
}

export function problemsView(problems: readonly ManifestProblem[]): ProblemsResponse {
  return {
    problems: problems.map((p) => ({
      source: p.source,
      line: p.line ?? null,
      column: p.column ?? null,
      field: formatPath(p.error.path),
      message: p.error.message,
    })),
  };
}
