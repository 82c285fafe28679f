import type { CanaryWindow, CanaryWindowBase } from '../../model/canary.js';
import type { ProxyObservation, TeleportMetrics } from '../../model/snapshot.js';

/** What one proxy showed over one analysis interval, built scrape by scrape (kept in the canary's status). */
export type ProxyWindow = CanaryWindow;

export function emptyWindow(proxy: string, region: string, last?: CanaryWindowBase): ProxyWindow {
  return { proxy, region, scrapes: 0, notOkScrapes: 0, readyzFailures: 0, missedScrapes: 0, restarts: 0, connectAttempts: 0, connectFailures: 0, connectionLimitExceeded: 0, peerDialErrors: 0, ...(last ? { last } : {}) };
}

function increase(now: number | undefined, before: number | undefined): number {
  if (now === undefined) return 0;
  if (before === undefined) return 0;
  return now >= before ? now - before : now;
}

/** Only the counters the next increase is taken from: the status holds this, not the whole page. */
function baseOf(m: TeleportMetrics): CanaryWindowBase {
  return {
    connectAttempts: m.connectAttempts,
    connectFailures: m.connectFailures,
    connectionLimitExceeded: m.connectionLimitExceeded,
    ...(m.peerDialErrors === undefined ? {} : { peerDialErrors: m.peerDialErrors }),
    ...(m.startTimeSeconds === undefined ? {} : { startTimeSeconds: m.startTimeSeconds }),
  };
}

/**
 * Adds one observation to a window. The same scrape seen twice (two passes between scrapes)
 * counts once; the first page of a window only sets the base the increases are taken from.
 */
export function addObservation(w: ProxyWindow, o: ProxyObservation): ProxyWindow {
  if (o.lastScrapeAt === w.lastScrapeAt) return w;
  if (!o.up || !o.metrics) return { ...w, missedScrapes: w.missedScrapes + 1, lastScrapeAt: o.lastScrapeAt };
  const m = o.metrics;
  const prev = w.last;
  const restarted = prev?.startTimeSeconds !== undefined && m.startTimeSeconds !== undefined && m.startTimeSeconds !== prev.startTimeSeconds;
  return {
    ...w,
    scrapes: w.scrapes + 1,
    notOkScrapes: w.notOkScrapes + (m.processState === 'ok' ? 0 : 1),
    readyzFailures: w.readyzFailures + (o.readyzStatus === 200 ? 0 : 1),
    restarts: w.restarts + (restarted ? 1 : 0),
    connectAttempts: w.connectAttempts + increase(m.connectAttempts, prev?.connectAttempts),
    connectFailures: w.connectFailures + increase(m.connectFailures, prev?.connectFailures),
    connectionLimitExceeded: w.connectionLimitExceeded + increase(m.connectionLimitExceeded, prev?.connectionLimitExceeded),
    peerDialErrors: w.peerDialErrors + increase(m.peerDialErrors, prev?.peerDialErrors),
    ...(m.residentMemoryBytes === undefined ? {} : { residentMemoryBytes: m.residentMemoryBytes }),
    ...(m.goroutines === undefined ? {} : { goroutines: m.goroutines }),
    last: baseOf(m),
    lastScrapeAt: o.lastScrapeAt,
  };
}

/** Every observed proxy's window with this snapshot added (a proxy seen for the first time gets a new one). */
export function observeAll(windows: readonly ProxyWindow[], observations: ReadonlyMap<string, ProxyObservation>): ProxyWindow[] {
  const byName = new Map(windows.map((w) => [w.proxy, w]));
  for (const o of observations.values()) byName.set(o.name, addObservation(byName.get(o.name) ?? emptyWindow(o.name, o.region), o));
  return [...byName.values()];
}

/** A new interval: counts start again from the last pages seen. */
export function nextInterval(windows: readonly ProxyWindow[]): ProxyWindow[] {
  return windows.map((w) => emptyWindow(w.proxy, w.region, w.last));
}
