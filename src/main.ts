import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { loadAdminAuth } from './admin/auth/load-admin-auth.js';
import type { MeridianConfig } from './config.js';
import { adminJob } from './jobs/admin.js';
import { canariesJob } from './jobs/canaries.js';
import { fleetStatusJob } from './jobs/fleet-status.js';
import type { Job, JobDeps, Offers } from './jobs/job.js';
import { observeJob } from './jobs/observe.js';
import { startObservedState } from './jobs/observed-state.js';
import { oidcSyncJob } from './jobs/oidc-sync.js';
import { peeringJob } from './jobs/peering.js';
import { redirectJob } from './jobs/redirect.js';
import { rolloutsJob } from './jobs/rollouts.js';
import { specProblemsJob } from './jobs/spec-problems.js';
import { registerRolloutMetrics } from './rollout/rollout-metrics.js';
import { Closers } from './runtime/closers.js';
import { registerControllerMetrics } from './runtime/controller-metrics.js';
import { startControllerRuntime, type Runtime } from './runtime/controller-runtime.js';
import { startKindCaches } from './runtime/kind-cache.js';
import { registerLeaderMetric } from './runtime/leader-metric.js';
import type { Leadership } from './runtime/leadership.js';
import { openStore } from './runtime/open-store.js';

export { compressedTimers, type Runtime } from './runtime/controller-runtime.js';

export interface MeridianHandle {
  readonly adminUrl: string;
  /** The login URL users are given (the geo redirect). */
  readonly loginUrl: string;
  readonly simControlUrl?: string;
  /** Stops every loop and listener; resolves when all are down. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** The clock and timers to act on (tests); otherwise the simulator's, a followed one, or the wall clock. */
  readonly runtime?: Runtime;
  /** Start the bundled fleet simulator for the manifests' proxies: only the demo asks; a controller never does. */
  readonly simulator?: boolean;
  /** Who acts; default: this instance alone with the file store, the Lease holder with the kubernetes store. */
  readonly leadership?: Leadership;
  /** Ends the process when a lost term's work does not stop in time (default: exit with status 1). */
  readonly exit?: () => void;
}

/**
 * Meridian's jobs, started in this order and stopped in the reverse. Each does what every instance
 * does (observe, route, serve) and hands what only the acting one does to the leadership.
 */
const JOBS: readonly Job[] = [
  fleetStatusJob, // acting: ProxyFleet status
  redirectJob, // every instance: routing table and the public login listener
  rolloutsJob, // acting: ProxyRollout
  canariesJob, // acting: ProxyCanary
  peeringJob, // acting: ProxyPeering; every instance: its report
  oidcSyncJob, // acting: the OIDC connector file
  specProblemsJob, // acting: refused cluster objects told why on their status (kubernetes store)
  adminJob, // every instance: the admin listener
  // Last: scrapes start once everything that follows them is up (and not slowed by its start).
  observeJob, // every instance: scrapes the fleet
];

/** The composition root: builds what the jobs share from the config, then starts the jobs. */
export async function startMeridian(config: MeridianConfig, log: Logger, { runtime, simulator = false, leadership: given, exit = () => process.exit(1) }: StartOptions = {}): Promise<MeridianHandle> {
  const closers = new Closers();
  return closers.guard(async () => {
    // First: a bad token file or an unprotected admin address stops the start before anything runs.
    const adminAuth = await loadAdminAuth(config.admin, config.adminAuth, log.child({ component: 'admin-auth' }));
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });

    // Closed after every job: a leader's work stops, then it releases the Lease, then the store stops.
    const { store, leadership, recordEvent, cluster, close } = await openStore(config, log, { ...(given ? { leadership: given } : {}), onLeading: registerLeaderMetric(registry, config.identity), exit });
    closers.add(close);
    const observed = await startObservedState(store, log);
    closers.add(observed.close);
    const clock = await startControllerRuntime(config, log, { ...(runtime ? { runtime } : {}), simulator, fleet: async () => observed.fleet() });
    closers.add(() => clock.close());
    const caches = await startKindCaches(store, log);
    closers.add(caches.close);

    const offered: Partial<Offers> = {};
    const deps: JobDeps = {
      config,
      log,
      registry,
      store,
      runtime: clock,
      caches,
      observed,
      leadership,
      recordEvent,
      ...(cluster ? { cluster } : {}),
      adminAuth,
      onPass: registerControllerMetrics(registry, () => store.problems()).onPass,
      runMetrics: registerRolloutMetrics(registry, () => [...caches.ProxyRollout.values()], () => [...caches.ProxyCanary.values()]),
      offered,
    };
    for (const job of JOBS) {
      const started = await job.start(deps);
      closers.add(started.close);
      Object.assign(offered, started.offers);
    }
    const { adminUrl, loginUrl } = offered;
    if (!adminUrl || !loginUrl) throw new Error('a listener job did not say where it listens');
    return { adminUrl, loginUrl, ...(clock.sim ? { simControlUrl: clock.sim.controlUrl } : {}), close: closers.close };
  });
}
