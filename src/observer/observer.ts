import { setMaxListeners } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import PQueue from 'p-queue';
import type { Logger } from 'pino';
import type { Clock } from '../model/clock.js';
import type { Proxy, ProxyFleetSpec } from '../model/fleet.js';
import type { FleetSnapshot, ProxyObservation } from '../model/snapshot.js';
import { buildObservation, buildSnapshot, observationChange, observationsByName, withdrawIsolatedGrace } from './core/build-observation.js';
import type { ScrapeFn, ScrapeOutcome } from './core/scrape-outcome.js';

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface ObserverDeps {
  readonly scrape: ScrapeFn;
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

export function createObserver(deps: ObserverDeps): Observer {
  if (!Number.isInteger(deps.concurrency) || deps.concurrency < 1) throw new Error(`observer concurrency must be a whole number >= 1, got ${deps.concurrency}`);
  if (!(deps.timeoutMs > 0)) throw new Error(`observer timeoutMs must be > 0, got ${deps.timeoutMs}`);
  const { clock, log } = deps;
  const random = deps.random ?? Math.random;
  const sleep: Sleep = deps.sleep ?? ((ms, signal) => delay(ms, undefined, signal ? { signal } : {}));
  const jitterMs = deps.jitterMs ?? Math.round(deps.timeoutMs / 10);
  // The adapter's own timeout should end every scrape; this only guards against one that ignores it.
  const deadlineMs = deps.timeoutMs + Math.min(1000, deps.timeoutMs);

  async function scrapeWithDeadline(proxy: Proxy, outer: AbortSignal | undefined): Promise<ScrapeOutcome> {
    const started = clock.now();
    const elapsed = (): number => Math.max(0, clock.now() - started);
    if (outer?.aborted) return { ok: false, error: { reason: 'timeout', message: `${proxy.diagnosticUrl}: scrape cancelled` }, durationMs: 0 };
    const controller = new AbortController();
    const forward = (): void => controller.abort(outer?.reason);
    outer?.addEventListener('abort', forward, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<ScrapeOutcome>((resolve) => {
      timer = setTimeout(() => {
        controller.abort();
        resolve({ ok: false, error: { reason: 'timeout', message: `${proxy.diagnosticUrl}: no answer within ${deadlineMs} ms` }, durationMs: elapsed() });
      }, deadlineMs);
    });
    try {
      const scraped = deps.scrape(proxy.diagnosticUrl, controller.signal).catch(
        (e: unknown): ScrapeOutcome => ({
          ok: false,
          error: { reason: 'network', message: `${proxy.diagnosticUrl}: scrape failed: ${e instanceof Error ? e.message : String(e)}` },
          durationMs: elapsed(),
        }),
      );
      return await Promise.race([scraped, expired]);
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener('abort', forward);
    }
  }

  function logChange(previous: ProxyObservation | undefined, next: ProxyObservation, outcome: ScrapeOutcome): void {
    const change = observationChange(previous, next);
    if (!change && !outcome.readyzProblem) return;
    const plog = log.child({ kind: 'Proxy', name: next.name, region: next.region });
    if (change === 'recovered') plog.info({ ready: next.ready }, 'Proxy scrape recovered');
    else if (change && next.error) plog.warn({ reason: next.error.reason, lastSuccessAt: next.lastSuccessAt }, `Proxy scrape failed: ${next.error.message}`);
    if (outcome.readyzProblem) plog.debug({ reason: outcome.readyzProblem.reason }, `Proxy readyz failed: ${outcome.readyzProblem.message}`);
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
      const observations = await Promise.all(
        spec.proxies.map(async (proxy) => {
          const waitMs = Math.floor(Math.min(Math.max(random(), 0), 1) * jitterMs);
          // An abort during the wait is handled below: the scrape is then not started.
          if (waitMs > 0) await sleep(waitMs, signal).catch(() => undefined);
          const outcome = await queue.add(() => scrapeWithDeadline(proxy, signal));
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
      const snapshot = buildSnapshot({ observedAt: iso(clock.now()), ...(options.fleet ? { fleet: options.fleet } : {}), proxies });
      log.debug({ proxies: proxies.length, up: proxies.filter((o) => o.up).length }, 'Observed fleet');
      return snapshot;
    },
  };
}
