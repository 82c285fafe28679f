import { setMaxListeners } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import PQueue from 'p-queue';
import type { Logger } from 'pino';
import type { Clock } from '../model/clock.js';
import type { Proxy, ProxyFleetSpec } from '../model/fleet.js';
import type { AuthObservation, AuthServerObservation, FleetSnapshot, ProxyObservation } from '../model/snapshot.js';
import { buildObservation, buildSnapshot, observationChange, observationsByName, withdrawIsolatedGrace } from './core/build-observation.js';
import { describeSkipped } from './core/parse-metrics.js';
import { authObservation, authServerObservation } from './core/auth-observation.js';
import type { AuthScrapeFn, AuthScrapeOutcome, ScrapeFailure, ScrapeFn, ScrapeOutcome } from './core/scrape-outcome.js';

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface ObserverDeps {
  readonly scrape: ScrapeFn;
  /** Scrapes an Auth Service instance (spec.auth); without it the Auth Service is not observed. */
  readonly scrapeAuth?: AuthScrapeFn;
  readonly clock: Clock;
  /** Scrapes in flight at once (config). */
  readonly concurrency: number;
  /** The scrape adapter's per-request timeout; the observer gives up on a scrape a little after it. */
  readonly timeoutMs: number;
  readonly log: Logger;
  /** Each scrape starts after random() * jitterMs, so a fleet is not hit in one burst. Default: timeoutMs / 10. */
  readonly jitterMs?: number;
  readonly random?: () => number;
  readonly sleep?: Sleep;
}

export interface ObserveOptions {
  /** Aborting stops starting new scrapes; observe() then rejects with the abort reason. */
  readonly signal?: AbortSignal;
  /** Which ProxyFleet (and generation) the spec came from, recorded in the snapshot. */
  readonly fleet?: FleetSnapshot['fleet'];
  /** Each proxy's observation as soon as it is made, before the cycle ends (to act on a dead proxy at once). */
  readonly onObservation?: (observation: ProxyObservation) => void;
}

export interface Observer {
  /** One full cycle: every proxy of the spec scraped once; a new frozen snapshot. */
  observe(spec: ProxyFleetSpec, previous: FleetSnapshot, options?: ObserveOptions): Promise<FleetSnapshot>;
}

const iso = (ms: number): string => new Date(ms).toISOString();

const skippedMetrics = (o: ProxyObservation | undefined): string => [...new Set(o?.metrics?.skippedSamples?.map((s) => s.metric))].join(',');

export function createObserver(deps: ObserverDeps): Observer {
  if (!Number.isInteger(deps.concurrency) || deps.concurrency < 1) throw new Error(`observer concurrency must be a whole number >= 1, got ${deps.concurrency}`);
  if (!(deps.timeoutMs > 0)) throw new Error(`observer timeoutMs must be > 0, got ${deps.timeoutMs}`);
  const { clock, log } = deps;
  const random = deps.random ?? Math.random;
  const sleep: Sleep = deps.sleep ?? ((ms, signal) => delay(ms, undefined, signal ? { signal } : {}));
  const jitterMs = deps.jitterMs ?? Math.round(deps.timeoutMs / 10);
  // The adapter's own timeout should end every scrape; this only guards against one that ignores it.
  const deadlineMs = deps.timeoutMs + Math.min(1000, deps.timeoutMs);

  /** Any scrape (a proxy's or an Auth Service instance's), ended a little after the adapter's own timeout at the latest. */
  async function scrapeWithDeadline<O extends ScrapeOutcome | AuthScrapeOutcome>(
    url: string,
    scrape: (url: string, signal: AbortSignal) => Promise<O>,
    outer: AbortSignal | undefined,
  ): Promise<O | ScrapeFailure> {
    const started = clock.now();
    const elapsed = (): number => Math.max(0, clock.now() - started);
    const failed = (reason: 'timeout' | 'network', message: string, durationMs: number): ScrapeFailure => ({ ok: false, error: { reason, message }, durationMs });
    if (outer?.aborted) return failed('timeout', `${url}: scrape cancelled`, 0);
    const controller = new AbortController();
    const forward = (): void => controller.abort(outer?.reason);
    outer?.addEventListener('abort', forward, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<ScrapeFailure>((resolve) => {
      timer = setTimeout(() => {
        controller.abort();
        resolve(failed('timeout', `${url}: no answer within ${deadlineMs} ms`, elapsed()));
      }, deadlineMs);
    });
    try {
      const scraped = scrape(url, controller.signal).catch((e: unknown) => failed('network', `${url}: scrape failed: ${e instanceof Error ? e.message : String(e)}`, elapsed()));
      return await Promise.race([scraped, expired]);
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener('abort', forward);
    }
  }

  function logChange(previous: ProxyObservation | undefined, next: ProxyObservation, outcome: ScrapeOutcome): void {
    const change = observationChange(previous, next);
    if (!change && !outcome.readyzProblem && !(outcome.ok && outcome.metrics.skippedSamples)) return;
    const plog = log.child({ kind: 'Proxy', name: next.name, region: next.region });
    if (change === 'recovered') plog.info({ ready: next.ready }, 'Proxy scrape recovered');
    else if (change && next.error) plog.warn({ reason: next.error.reason, lastSuccessAt: next.lastSuccessAt }, `Proxy scrape failed: ${next.error.message}`);
    if (outcome.readyzProblem) plog.debug({ reason: outcome.readyzProblem.reason }, `Proxy readyz failed: ${outcome.readyzProblem.message}`);
    const skipped = outcome.ok ? (outcome.metrics.skippedSamples ?? []) : [];
    // Once per change of which metrics were odd, not every cycle.
    if (skipped.length && skippedMetrics(previous) !== skippedMetrics(next)) {
      plog.warn({ skipped: skipped.length }, `Proxy metrics page had unusable samples, left out: ${skipped.slice(0, 3).map(describeSkipped).join('; ')}`);
    }
  }

  function logAuthChange(previous: AuthObservation | undefined, next: AuthObservation | undefined): void {
    if (!next || (previous?.version === next.version && previous?.error?.reason === next.error?.reason)) return;
    const alog = log.child({ kind: 'AuthService' });
    if (next.version !== undefined) alog.info({ version: next.version }, 'Auth Service version observed');
    else if (next.error) alog.warn({ reason: next.error.reason }, `Auth Service scrape failed: ${next.error.message}`);
  }

  return {
    async observe(spec, previous, options = {}) {
      // One cycle-wide signal: every proxy's jitter wait and scrape listens on it, so lift the
      // listener cap (10 by default) that a fleet of any size would trip.
      const cycle = new AbortController();
      setMaxListeners(0, cycle.signal);
      const stopCycle = (): void => cycle.abort(options.signal?.reason);
      if (options.signal?.aborted) stopCycle();
      options.signal?.addEventListener('abort', stopCycle, { once: true });
      const signal = cycle.signal;
      const before = observationsByName(previous);
      const queue = new PQueue({ concurrency: deps.concurrency });
      // The Auth Service's instances share the queue; each outcome stands alone, so a bad one spoils nothing else.
      const scrapeAuth = deps.scrapeAuth;
      const authServers =
        scrapeAuth && spec.auth
          ? Promise.all(
              spec.auth.diagnosticUrls.map(async (url): Promise<AuthServerObservation> => {
                const outcome: AuthScrapeOutcome = await queue.add(() => scrapeWithDeadline(url, scrapeAuth, signal));
                return authServerObservation(url, outcome, iso(clock.now()));
              }),
            )
          : undefined;
      const observations = await Promise.all(
        spec.proxies.map(async (proxy) => {
          const waitMs = Math.floor(Math.min(Math.max(random(), 0), 1) * jitterMs);
          // An abort during the wait is handled below: the scrape is then not started.
          if (waitMs > 0) await sleep(waitMs, signal).catch(() => undefined);
          const outcome: ScrapeOutcome = await queue.add(() => scrapeWithDeadline(proxy.diagnosticUrl, deps.scrape, signal));
          const last = before.get(proxy.name);
          const observation = buildObservation({ proxy, outcome, previous: last, at: iso(clock.now()) });
          logChange(last, observation, outcome);
          options.onObservation?.(observation);
          return observation;
        }),
      );
      options.signal?.removeEventListener('abort', stopCycle);
      signal.throwIfAborted();
      const hung = new Map(withdrawIsolatedGrace(observations).map((o) => [o.name, o]));
      for (const o of hung.values()) options.onObservation?.(o);
      const proxies = hung.size ? observations.map((o) => hung.get(o.name) ?? o) : observations;
      const servers = await authServers;
      const observedAt = iso(clock.now());
      const auth = servers ? { auth: authObservation(servers, observedAt) } : {};
      logAuthChange(previous.auth, auth.auth);
      const snapshot = buildSnapshot({ observedAt, ...(options.fleet ? { fleet: options.fleet } : {}), proxies, ...auth });
      log.debug({ proxies: proxies.length, up: proxies.filter((o) => o.up).length }, 'Observed fleet');
      return snapshot;
    },
  };
}
