import { setTimeout as sleep } from 'node:timers/promises';
import { createDiagnosticClient } from '../adapters/teleport/diagnostic-client.js';
import { registerFleetMetrics } from '../fleet/fleet-metrics.js';
import { keyOf } from '../model/resource.js';
import { createObserver } from '../observer/observer.js';
import { runObserverLoop } from '../observer/run-observer-loop.js';
import type { Job } from './job.js';

/** Every instance: scrapes the observed fleet's proxies each interval into the observed state. */
export const observeJob: Job = {
  name: 'observe',
  async start({ config, log, registry, runtime, observed }) {
    const fleetMetrics = registerFleetMetrics(registry, () => observed.snapshots());
    const client = createDiagnosticClient({ timeoutMs: config.observe.timeoutMs, maxBodyBytes: config.observe.maxBodyBytes, log: log.child({ component: 'diagnostic-client' }) });
    const observer = createObserver({
      scrape: (url, signal) => client.scrape(url, signal),
      scrapeAuth: (url, signal) => client.scrapeAuth(url, signal),
      clock: runtime.clock,
      concurrency: config.observe.concurrency,
      timeoutMs: config.observe.timeoutMs,
      // Spread each cycle's scrapes over a tenth of the interval so proxies are not hit in one burst.
      jitterMs: Math.round(runtime.observeEveryMs / 10),
      log: log.child({ component: 'observer' }),
    });
    const stop = new AbortController();
    const observing = runObserverLoop({
      observer,
      intervalMs: runtime.observeEveryMs,
      // The loop paces itself in real time, whatever clock the controller acts on.
      clock: { now: runtime.stopwatch },
      signal: stop.signal,
      sleep: (ms, signal) => sleep(ms, undefined, { signal }),
      getFleet: () => {
        const f = observed.fleet();
        return f && { spec: f.spec, fleet: { name: f.metadata.name, namespace: keyOf(f).namespace, generation: f.metadata.generation ?? 0 } };
      },
      onSnapshot: (snapshot, cycleMs) => {
        if (!snapshot.fleet) return;
        observed.recordSnapshot(snapshot);
        fleetMetrics.recordCycle(snapshot, cycleMs / 1000);
      },
      onObservation: (o) => observed.recordObservation(o),
      onError: (e) => log.error({ err: e }, 'Observation cycle failed'),
    });
    return {
      async close() {
        stop.abort();
        await observing;
        client.close();
      },
    };
  },
};
