import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { FileStore } from './adapters/file-store/index.js';
import { loadAdminAuth } from './admin/auth/load-admin-auth.js';
import { NO_MANIFEST_DIR, type MeridianConfig } from './config.js';
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
import { registerRolloutMetrics } from './rollout/rollout-metrics.js';
import { Closers } from './runtime/closers.js';
import { registerControllerMetrics } from './runtime/controller-metrics.js';
import { startControllerRuntime, systemClock, type Runtime } from './runtime/controller-runtime.js';
import { startKindCaches } from './runtime/kind-cache.js';
import { standaloneLeadership, type Leadership } from './runtime/leadership.js';

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
  /** Who acts; default: this instance alone, always. */
  readonly leadership?: Leadership;
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
  adminJob, // every instance: the admin listener
  // Last: scrapes start once everything that follows them is up (and not slowed by its start).
  observeJob, // every instance: scrapes the fleet
];

/** The composition root: builds what the jobs share from the config, then starts the jobs. */
export async function startMeridian(config: MeridianConfig, log: Logger, { runtime, simulator = false, leadership = standaloneLeadership }: StartOptions = {}): Promise<MeridianHandle> {
  const manifestDir = config.manifestDir;
  if (manifestDir === undefined) throw new Error(NO_MANIFEST_DIR);
  const closers = new Closers();
  return closers.guard(async () => {
    // First: a bad token file or an unprotected admin address stops the start before anything runs.
    const adminAuth = await loadAdminAuth(config.admin, config.adminAuth, log.child({ component: 'admin-auth' }));
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });

    const store = new FileStore({ manifestDir, stateDir: config.stateDir, log: log.child({ component: 'file-store' }), clock: systemClock });
    await store.start();
    closers.add(() => store.close());
    for (const p of store.problems()) log.warn({ source: p.source, line: p.line }, `Manifest refused: ${p.error.message}`);
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
