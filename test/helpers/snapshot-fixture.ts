import type { FleetSnapshot, ProxyObservation, TeleportMetrics } from '../../src/model/snapshot.js';

export function metrics(overrides: Partial<TeleportMetrics> = {}): TeleportMetrics {
  return {
    processState: 'ok',
    version: '17.4.2',
    gitref: 'v17.4.2-0-gabcdef',
    sessions: { ssh: 10, kube_exec: 2, kube_portforward: 1, kube_join: 0, db: 3 },
    tunnels: { node: 5 },
    missingTunnels: 0,
    connectAttempts: 100,
    connectFailures: 1,
    connectionLimitExceeded: 0,
    ...overrides,
  };
}

export function observation(name: string, region: string, overrides: Partial<ProxyObservation> = {}): ProxyObservation {
  const m = overrides.metrics ?? metrics();
  const total = Object.values(m.sessions).reduce((a, b) => a + b, 0);
  return { name, region, up: true, ready: true, consecutiveFailures: 0, readyzStatus: 200, metrics: m, sessionsTotal: total, lastScrapeAt: '2026-01-01T00:00:00.000Z', lastSuccessAt: '2026-01-01T00:00:00.000Z', scrapeDurationMs: 3, ...(overrides.up === false ? { consecutiveFailures: 2 } : {}), ...overrides };
}

export function snapshot(proxies: ProxyObservation[], generation = 1): FleetSnapshot {
  return { observedAt: '2026-01-01T00:00:00.000Z', fleet: { name: 'demo', namespace: 'default', generation }, proxies };
}
