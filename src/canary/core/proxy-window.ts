import type { ProxyObservation, TeleportMetrics } from '../../model/snapshot.js';

/** What one proxy showed over one analysis interval, built scrape by scrape. */
export interface ProxyWindow {
  readonly proxy: string;
  readonly region: string;
  /** Scrapes that came back, and how many of those said process_state was not ok or /readyz not 200. */
  readonly scrapes: number;
  readonly notOkScrapes: number;
  readonly readyzFailures: number;
  /** Failed scrapes (the proxy did not answer). */
  readonly missedScrapes: number;
  readonly restarts: number;
  /** Counter increases over the interval, across restarts (a counter that went down started again from 0). */
  readonly connectAttempts: number;
  readonly connectFailures: number;
  readonly connectionLimitExceeded: number;
  readonly peerDialErrors: number;
  readonly residentMemoryBytes?: number;
  readonly goroutines?: number;
  /** The last page seen, to take the next increase from; not a measurement. */
  readonly last?: TeleportMetrics;
  readonly lastScrapeAt?: string;
}

export function emptyWindow(proxy: string, region: string, last?: TeleportMetrics): ProxyWindow {
  return { proxy, region, scrapes: 0, notOkScrapes: 0, readyzFailures: 0, missedScrapes: 0, restarts: 0, connectAttempts: 0, connectFailures: 0, connectionLimitExceeded: 0, peerDialErrors: 0, ...(last ? { last } : {}) };
}

function increase(now: number | undefined, before: number | undefined): number {
  if (now === undefined) return 0;
  if (before === undefined) return 0;
  return now >= before ? now - before : now;
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
    last: m,
    lastScrapeAt: o.lastScrapeAt,
  };
}
