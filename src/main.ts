import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createHookRunner, readSecret, runCommand } from './adapters/hooks/index.js';
import { createNoticeSender } from './adapters/notify/index.js';
import { createDiagnosticClient } from './adapters/teleport/diagnostic-client.js';
import { syncOidcConnectorFile } from './adapters/teleport/oidc-connector-file.js';
import { FileStore } from './adapters/file-store/index.js';
import { createGeoIpService, defaultGeoIpPaths } from './adapters/geoip/index.js';
import { buildAdminApp } from './admin/admin-app.js';
import { loadAdminAuth } from './admin/auth/load-admin-auth.js';
import { storeRoutes } from './admin/store-routes.js';
import { fleetView, problemsView } from './admin/fleet-view.js';
import { NO_MANIFEST_DIR, type MeridianConfig } from './config.js';
import { createFleetReconciler } from './fleet/fleet-reconciler.js';
import { registerFleetMetrics } from './fleet/fleet-metrics.js';
import type { Clock } from './model/clock.js';
import type { ProxyFleet } from './model/fleet.js';
import { keyOf, keyString, type ResourceKey } from './model/resource.js';
import { err, ok } from './model/result.js';
import type { FleetSnapshot } from './model/snapshot.js';
import { oidcRedirectUrls } from './oidc/core/redirect-urls.js';
import { createObserver } from './observer/observer.js';
import { runObserverLoop } from './observer/run-observer-loop.js';
import { buildRoutingTable, type RoutingTable } from './redirect/core/routing-table.js';
import { buildPublicApp } from './redirect/public-app.js';
import { registerRedirectMetrics } from './redirect/redirect-metrics.js';
import { registerRoutingMetrics } from './redirect/routing-metrics.js';
import { createRedirectService } from './redirect/redirect-service.js';
import { OUT_OF_ROTATION_STEPS } from './model/rollout.js';
import { registerRolloutMetrics } from './rollout/rollout-metrics.js';
import { createRolloutReconciler } from './rollout/rollout-reconciler.js';
import { createRolloutEngine } from './rollout/rollout-engine.js';
import { createCanaryReconciler } from './canary/canary-reconciler.js';
import { registerCanaryMetrics } from './canary/canary-metrics.js';
import { canaryClaims, canaryRouteProxies, heldByCanary } from './canary/core/canary-runs.js';
import type { CanaryPhase } from './model/canary.js';
import { createDiagnosticsCapture } from './adapters/teleport/diagnostics-capture.js';
import { createPrometheusClient } from './adapters/prometheus/index.js';
import { createInventoryReader } from './adapters/teleport/inventory-reader.js';
import { createPeeringActions } from './adapters/peering/peering-actions.js';
import { createPeeringReconciler } from './peering/peering-reconciler.js';
import { registerPeeringMetrics } from './peering/peering-metrics.js';
import { createKindController } from './runtime/kind-controller.js';
import { runController } from './runtime/controller.js';
import { registerControllerMetrics } from './runtime/controller-metrics.js';
import { WorkQueue, type Timers } from './runtime/work-queue.js';
import { followSimClock, simOptionsFromFleet, startFleetSim, type FleetSim } from './sim/index.js';

export interface MeridianHandle {
  readonly adminUrl: string;
  /** The login URL users are given (the geo redirect). */
  readonly loginUrl: string;
  readonly simControlUrl?: string;
  /** Stops every loop and listener; resolves when all are down. */
  close(): Promise<void>;
}

const systemClock: Clock = { now: () => Date.now() };
/** Canary phases in which proxies may be on the build. */
const LIVE_CANARY_PHASES: ReadonlySet<CanaryPhase> = new Set(['Deploying', 'Baking', 'Held', 'Promoting', 'RollingBack']);

/** The key invitations are signed with; absent: invitations are off. A file that cannot be read stops the start. */
async function readCanaryKey(file: string | undefined): Promise<string | undefined> {
  if (!file) return undefined;
  const key = await readSecret(file);
  if (!key.ok) throw new Error(`canary key: ${key.error}`);
  return key.value;
}

/** The fastest the observer runs on a compressed clock, in real ms. */
const MIN_REAL_OBSERVE_MS = 100;
const realTimers: Timers = { setTimeout, clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };

/** The time the controller acts on: windows, deadlines, notices, timestamps, and timers in the same units. */
export interface Runtime {
  readonly clock: Clock;
  readonly timers: Timers;
}

/** Timers for a clock that runs `factor` times faster than real time. */
export function compressedTimers(factor: number): Timers {
  return { setTimeout: (fn, ms) => setTimeout(fn, ms / factor), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };
}

export interface StartOptions {
  /** The clock and timers to act on (tests); otherwise the simulator's, a followed one, or the wall clock. */
  readonly runtime?: Runtime;
  /** Start the bundled fleet simulator for the manifests' proxies: only the demo asks; a controller never does. */
  readonly simulator?: boolean;
}

/**
 * The composition root: builds every adapter from the config and wires them together. With the
 * bundled simulator, the controller runs on the simulator's clock (time-compressed by
 * --time-factor), so windows, notices and drains of the demo fleet play out at the same pace.
 */
export async function startMeridian(config: MeridianConfig, log: Logger, { runtime, simulator = false }: StartOptions = {}): Promise<MeridianHandle> {
  if (config.manifestDir === undefined) throw new Error(NO_MANIFEST_DIR);
  if (simulator && config.sim.followClock) throw new Error(`the bundled simulator has its own clock: it cannot follow ${config.sim.followClock} too`);
  const stop = new AbortController();
  const closers: (() => Promise<void> | void)[] = [];
  const close = async (): Promise<void> => {
    stop.abort();
    for (const c of closers.reverse()) await c();
  };
  try {
    // First: a bad token file or an unprotected admin address stops the start before anything runs.
    const adminAuth = await loadAdminAuth(config.admin, config.adminAuth, log.child({ component: 'admin-auth' }));
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });

    const store = new FileStore({ manifestDir: config.manifestDir, stateDir: config.stateDir, log: log.child({ component: 'file-store' }), clock: systemClock });
    await store.start();
    closers.push(() => store.close());
    for (const p of store.problems()) log.warn({ source: p.source, line: p.line }, `Manifest refused: ${p.error.message}`);

    let sim: FleetSim | undefined;
    if (simulator) {
      const fleet = await observedFleet(store, log);
      if (fleet) {
        sim = await startFleetSim(
          simOptionsFromFleet(fleet.spec, {
            timeFactor: config.sim.timeFactor,
            // The controller runs on this clock: it must move in steps finer than an observation.
            tickMs: MIN_REAL_OBSERVE_MS,
            seed: config.sim.seed,
            // A restarted demo resumes its simulated time: stored times never lie in the future.
            clockFile: join(config.stateDir, 'sim-clock.json'),
            controlHost: config.sim.control.host,
            controlPort: config.sim.control.port,
            log: log.child({ component: 'sim' }),
          }),
        );
        closers.push(() => sim?.close());
      } else log.warn('No valid ProxyFleet to simulate; the simulator is not started');
    }
    // A split demo (meridian sim elsewhere): the controller runs on that simulator's clock.
    const followed = !runtime && !sim && config.sim.followClock ? await followSimClock({ url: config.sim.followClock, log: log.child({ component: 'sim-clock' }) }) : undefined;
    if (followed) closers.push(() => followed.close());
    const stopwatch = (): number => performance.now();
    const { clock, timers } =
      runtime ?? (sim ? { clock: sim.clock, timers: compressedTimers(config.sim.timeFactor) } : followed ? { clock: followed, timers: followed.timers } : { clock: systemClock, timers: realTimers });
    const simPace = runtime ? undefined : sim ? config.sim.timeFactor : followed && followed.timeFactor > 0 ? followed.timeFactor : undefined;
    // What GET /api/v1/clock answers: any clock but the wall clock is a simulated one.
    const controllerClock = () => ({ now: clock.now(), simulated: clock !== systemClock, ...(runtime ? {} : followed ? { timeFactor: followed.timeFactor } : sim ? { timeFactor: config.sim.timeFactor } : {}) });
    // On the simulator's clock the observation interval is simulated time too (or drains and
    // verifications would see a scrape every few simulated minutes); scrapes still time out in real time.
    const observeEveryMs = simPace ? Math.max(MIN_REAL_OBSERVE_MS, config.observe.intervalMs / simPace) : config.observe.intervalMs;

    const geo = createGeoIpService({ paths: config.redirect.geoipPaths.length ? config.redirect.geoipPaths : defaultGeoIpPaths(), log: log.child({ component: 'geoip' }) });
    const geoStarted = await geo.start();
    if (!geoStarted.ok) throw new Error(`GeoIP database: ${geoStarted.error}`);
    closers.push(() => geo.close());

    const snapshots = new Map<string, FleetSnapshot>();
    const snapshotOf = (key: ResourceKey): FleetSnapshot | undefined => snapshots.get(keyString(key));
    const fleetMetrics = registerFleetMetrics(registry, () => [...snapshots.values()]);
    const controllerMetrics = registerControllerMetrics(registry, () => store.problems());
    const redirectMetrics = registerRedirectMetrics(registry, () => geo.buildTimestampSeconds());

    const queue = new WorkQueue({ baseBackoffMs: 500, maxBackoffMs: 60_000, timers });
    closers.push(() => queue.shutDown());
    const reconciler = createFleetReconciler({ store, clock, log: log.child({ controller: 'proxyfleet' }), snapshotOf });

    // Rollouts and canaries: their stored status says which proxies they hold out of rotation; the redirect follows it.
    // Signatures carry wall time: receivers check it against their own clocks.
    const hookDeps = { log: log.child({ component: 'hooks' }), clock: systemClock, runCommand, readSecret };
    const sendNotice = createNoticeSender({ ...hookDeps, log: log.child({ component: 'notify' }) });
    const runHook = createHookRunner(hookDeps);
    // A declaration, so the reconcilers created below can ask for it; it reads their caches at call time.
    function heldByRuns(): Set<string> {
      const held = new Set<string>();
      for (const r of rollouts.cache.values()) for (const p of r.status?.proxies ?? []) if (OUT_OF_ROTATION_STEPS.has(p.step)) held.add(p.name);
      for (const c of canaries.cache.values()) for (const p of heldByCanary(c)) held.add(p);
      return held;
    }
    const kindDeps = { store, clock, timers, stopwatch, log, onPass: controllerMetrics.onPass, onChange: () => rebuildRouting() };
    const rolloutMetrics = registerRolloutMetrics(
      registry,
      () => [...rollouts.cache.values()],
      () => [...canaries.cache.values()],
    );
    const rollouts: ReturnType<typeof createKindController<'ProxyRollout'>> = createKindController({
      ...kindDeps,
      kind: 'ProxyRollout',
      reconciler: createRolloutReconciler({ store, clock, log: log.child({ controller: 'proxyrollout' }), snapshotOf, sendNotice, runHook, metrics: rolloutMetrics, outOfRotation: heldByRuns, claimedByCanaries: () => canaryClaims(canaries.cache.values()) }),
    });
    const canaries = createKindController({
      ...kindDeps,
      kind: 'ProxyCanary',
      reconciler: createCanaryReconciler({
        store,
        clock,
        log: log.child({ controller: 'proxycanary' }),
        snapshotOf,
        // A canary's drains and notices count in the same metrics as a rollout's.
        engine: createRolloutEngine({ clock, sendNotice, runHook, onNotice: rolloutMetrics.onNotice, onTransition: rolloutMetrics.onTransition }),
        captureDiagnostics: createDiagnosticsCapture({ stateDir: config.stateDir, clock, timeoutMs: 30_000, runCommand }),
        queryPrometheus: createPrometheusClient({ readSecret }),
        heldOutOfRotation: heldByRuns,
      }),
    });
    registerCanaryMetrics(registry, () => [...canaries.cache.values()]);
    const peeringMetrics = registerPeeringMetrics(registry, () => [...peerings.cache.values()]);
    const readInventory = createInventoryReader({ runCommand });
    const peeringReconciler = createPeeringReconciler({
      store,
      clock,
      log: log.child({ controller: 'proxypeering' }),
      snapshotOf,
      draining: () => drainingProxies(),
      readInventory,
      actions: createPeeringActions({ clock: systemClock, readSecret, runCommand, readInventory }),
      configureProxy: async (req, signal) => {
        const running = current && snapshotOf(keyOf(current))?.proxies.find((o) => o.name === req.proxy.name)?.metrics?.version;
        const r = await runHook({ id: req.id, rollout: req.owner, action: 'configure', proxy: req.proxy, version: running ?? req.proxy.version, peer: { listenAddr: req.listenAddr, publicAddr: req.publicAddr } }, signal);
        return r.ok ? ok(r.value) : err(r.error.error);
      },
      onInventoryError: peeringMetrics.onInventoryError,
      onDrift: peeringMetrics.onDrift,
    });
    const peerings = createKindController({ ...kindDeps, kind: 'ProxyPeering', reconciler: peeringReconciler });
    closers.push(() => rollouts.shutDown(), () => canaries.shutDown(), () => peerings.shutDown());

    const unwatch = store.watch((key) => {
      if (key.kind === reconciler.kind) {
        queue.add(key);
        rollouts.enqueueAll();
        canaries.enqueueAll();
        peerings.enqueueAll();
      } else if (key.kind === 'ProxyRollout') rollouts.changed(key);
      else if (key.kind === 'ProxyCanary') canaries.changed(key);
      else if (key.kind === 'ProxyPeering') peerings.changed(key);
    });
    closers.push(unwatch);
    for (const f of await store.list('ProxyFleet')) queue.add(keyOf(f));
    const controllerDone = runController({ reconciler, queue, clock, stopwatch, log, onPass: controllerMetrics.onPass }, stop.signal);
    closers.push(() => controllerDone);
    const rolloutLoop = await rollouts.start(stop.signal);
    const canaryLoop = await canaries.start(stop.signal);
    const peeringLoop = await peerings.start(stop.signal);
    closers.push(() => rolloutLoop.done, () => canaryLoop.done, () => peeringLoop.done);

    const client = createDiagnosticClient({ timeoutMs: config.observe.timeoutMs, maxBodyBytes: config.observe.maxBodyBytes, log: log.child({ component: 'diagnostic-client' }) });
    closers.push(() => client.close());
    const observer = createObserver({
      scrape: (url, signal) => client.scrape(url, signal),
      scrapeAuth: (url, signal) => client.scrapeAuth(url, signal),
      clock,
      concurrency: config.observe.concurrency,
      timeoutMs: config.observe.timeoutMs,
      // Spread each cycle's scrapes over a tenth of the interval so proxies are not hit in one burst.
      jitterMs: Math.round(observeEveryMs / 10),
      log: log.child({ component: 'observer' }),
    });
    let current: ProxyFleet | undefined;
    // Rebuilt whenever a snapshot or the fleet changes, never per request.
    let routing: RoutingTable | undefined;
    registerRoutingMetrics(registry, () => routing);
    // Out of rotation: cordoned, or held by a rollout or canary. The redirect and peering both avoid them.
    const drainingProxies = (): Set<string> => {
      const draining = heldByRuns();
      for (const p of current?.spec.proxies ?? []) if (p.cordoned) draining.add(p.name);
      return draining;
    };
    const rebuildRouting = (): void => {
      const snapshot = current && snapshotOf(keyOf(current));
      const draining = drainingProxies();
      // Proxies on a canary's build (not those seen on another version since): under optInOnly only opted-in users reach them.
      const canaryRoutes = [...canaries.cache.values()]
        .filter((c) => c.status?.phase && LIVE_CANARY_PHASES.has(c.status.phase))
        .map((c) => ({ name: c.metadata.name, proxies: canaryRouteProxies(c, snapshot?.proxies ?? []), optInOnly: (c.spec.traffic ?? 'optInOnly') === 'optInOnly' }));
      routing =
        current && snapshot
          ? buildRoutingTable(current.spec, snapshot, { outOfRotation: draining, canaries: canaryRoutes, ...(current.spec.redirect?.pins ? { pins: current.spec.redirect.pins } : {}) })
          : undefined;
    };
    const observing = runObserverLoop({
      observer,
      intervalMs: observeEveryMs,
      // The loop paces itself in real time, whatever clock the controller acts on.
      clock: { now: stopwatch },
      signal: stop.signal,
      sleep: (ms, signal) => sleep(ms, undefined, { signal }),
      getFleet: () => current && { spec: current.spec, fleet: { name: current.metadata.name, namespace: keyOf(current).namespace, generation: current.metadata.generation ?? 0 } },
      onSnapshot: (snapshot, cycleMs) => {
        if (!snapshot.fleet) return;
        const key: ResourceKey = { kind: 'ProxyFleet', namespace: snapshot.fleet.namespace, name: snapshot.fleet.name };
        snapshots.set(keyString(key), snapshot);
        rebuildRouting();
        fleetMetrics.recordCycle(snapshot, cycleMs / 1000);
        queue.add(key);
        // Drains, verifications and canary analysis move on what each observation shows.
        rollouts.enqueueAll();
        canaries.enqueueAll();
      },
      // A proxy that stops being ready leaves the rotation now, not when the whole cycle ends.
      onObservation: (o) => {
        const key = current && keyOf(current);
        const snapshot = key && snapshotOf(key);
        if (!key || !snapshot || o.ready || !snapshot.proxies.some((p) => p.name === o.name && p.ready)) return;
        snapshots.set(keyString(key), { ...snapshot, proxies: snapshot.proxies.map((p) => (p.name === o.name ? o : p)) });
        rebuildRouting();
      },
      onError: (e) => log.error({ err: e }, 'Observation cycle failed'),
    });
    closers.push(() => observing.then(() => undefined));
    // The observed fleet follows the store: a valid edit takes effect on the next cycle.
    const refreshFleet = async (): Promise<void> => {
      current = await observedFleet(store, log);
      rebuildRouting();
      if (current && config.oidcConnectorFile) {
        const r = await syncOidcConnectorFile(config.oidcConnectorFile, oidcRedirectUrls(current.spec));
        if (!r.ok) log.error({ file: config.oidcConnectorFile }, `OIDC connector not synced: ${r.error}`);
        else if (r.value === 'updated') log.info({ file: config.oidcConnectorFile }, 'Updated OIDC connector redirect_url');
      }
    };
    await refreshFleet();
    closers.push(store.watch((key) => void (key.kind === 'ProxyFleet' && refreshFleet())));

    const canaryKey = await readCanaryKey(config.redirect.canaryKeyFile);
    const redirects = createRedirectService({
      routing: () => routing,
      geo: () => geo.current(),
      trusted: config.redirect.trusted,
      metrics: redirectMetrics,
      now: () => performance.now(),
      cacheSize: 100_000,
      nowSeconds: () => Math.floor(clock.now() / 1000),
      ...(canaryKey ? { canaryKey } : {}),
    });
    const publicApp = await buildPublicApp({ log, redirects });
    closers.push(() => publicApp.close());
    const loginUrl = await publicApp.listen({ host: config.public.host, port: config.public.port });

    const app = await buildAdminApp({
      log,
      registry,
      auth: adminAuth,
      controllerClock,
      notReadyReason: () => (!current ? 'no valid ProxyFleet' : snapshots.size === 0 ? 'waiting for the first observation' : undefined),
      fleets: async () => ({ fleets: (await store.list('ProxyFleet')).map((f) => fleetView(f, snapshotOf(keyOf(f)))) }),
      problems: () => problemsView(store.problems()),
      explain: (ip, region, canary) => redirects.explain(ip, region, canary),
      ...storeRoutes(store),
      peeringReport: (namespace, name) => {
        const v = peeringReconciler.view({ kind: 'ProxyPeering', namespace, name });
        const p = peerings.cache.get(keyString({ kind: 'ProxyPeering', namespace, name }));
        const snapshot = current && snapshotOf(keyOf(current));
        const tunnels = (snapshot?.proxies ?? []).flatMap((o) => (o.metrics ? [{ proxy: o.name, region: o.region, nodeTunnels: o.metrics.tunnels['node'] ?? 0, missingTunnels: o.metrics.missingTunnels }] : []));
        return v && { proxies: v.proxies, nodes: v.nodes, groups: v.planner.tunnelGroups, plan: v.plan, links: p?.status?.links ?? [], tunnels, unknown: v.unknown };
      },
    });
    closers.push(() => app.close());
    const adminUrl = await app.listen({ host: config.admin.host, port: config.admin.port });
    return { adminUrl, loginUrl, ...(sim ? { simControlUrl: sim.controlUrl } : {}), close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** Meridian observes one ProxyFleet per controller; with several, the first by namespace/name wins and the others are named in the log. */
async function observedFleet(store: FileStore, log: Logger): Promise<ProxyFleet | undefined> {
  const fleets = [...(await store.list('ProxyFleet'))].sort((a, b) => keyString(keyOf(a)).localeCompare(keyString(keyOf(b))));
  if (fleets.length > 1) log.warn({ ignored: fleets.slice(1).map((f) => keyString(keyOf(f))) }, 'More than one ProxyFleet; observing only the first');
  return fleets[0];
}
