import { createCanaryReconciler } from '../../../src/canary/canary-reconciler.js';
import type { ProxyCanary, ProxyCanarySpec, ProxyCanaryStatus } from '../../../src/model/canary.js';
import type { ProxyFleetSpec, Weekday } from '../../../src/model/fleet.js';
import type { Kind, KindMap } from '../../../src/model/kinds.js';
import type { QueryPrometheus } from '../../../src/model/prometheus.js';
import { API_VERSION } from '../../../src/model/resource.js';
import { OUT_OF_ROTATION_STEPS } from '../../../src/model/rollout.js';
import { createRolloutEngine } from '../../../src/rollout/rollout-engine.js';
import { fleet as fleetResource } from '../../helpers/fleet-fixture.js';
import { ManualClock } from '../../helpers/manual-clock.js';
import { silentLog } from '../../helpers/silent-log.js';
import type { MemoryStore } from '../../helpers/memory-store.js';
import { CrashingStore, CrashRestarts } from '../../rollout/helpers/rollout-harness.js';
import { exactJson } from '../../rollout/helpers/exact-json.js';
import { RolloutWorld, type WorldOptions, type WorldState } from '../../rollout/helpers/rollout-world.js';
import { checkpointAt, recorder, type CrashPoint, type Recording as CrashRecording } from '../../helpers/crash-recording.js';

export const HOOK = { method: 'webhook' as const, url: 'https://hooks.example.com/upgrade' };
export const EVERY_DAY: Weekday[] = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
export const ALWAYS = [{ days: EVERY_DAY, start: '00:00', duration: '24h' }];
export const BUILD = '17.4.9-debug.1';

/** Two regions of three proxies each, on 17.4.2, upgraded by webhook. */
export function canaryFleet(): ProxyFleetSpec {
  const regions = [
    { name: 'tokyo', latitude: 35.68, longitude: 139.69, timeZone: 'Asia/Tokyo' },
    { name: 'london', latitude: 51.51, longitude: -0.13, timeZone: 'Europe/London', default: true },
  ];
  const proxies = regions.flatMap((r) => [1, 2, 3].map((i) => ({ name: `${r.name}-${i}`, region: r.name, publicUrl: `https://${r.name}-${i}.example.com`, diagnosticUrl: `http://127.0.0.1:${i}`, version: '17.4.2', upgrade: HOOK })));
  return { regions, proxies };
}

/** A debug build on one proxy per region, baking 30m with a 5m interval, windows always open. */
export function canary(spec: Partial<ProxyCanarySpec> = {}): ProxyCanary {
  return {
    apiVersion: API_VERSION,
    kind: 'ProxyCanary',
    metadata: { name: 'debug', namespace: 'default', generation: 1 },
    spec: {
      build: { version: BUILD, debug: true, flags: ['--debug'] },
      subset: { perRegion: 1 },
      bakeTime: '30m',
      analysisInterval: '5m',
      maintenanceWindows: { tokyo: ALWAYS, london: ALWAYS },
      notice: { leadTimes: ['10m'], rollbackLeadTime: '2m' },
      drain: { deadline: '5m' },
      ...spec,
    },
  };
}

export interface CanaryRun {
  readonly status: ProxyCanaryStatus;
  readonly world: RolloutWorld;
  readonly store: MemoryStore;
  /** Proxies whose diagnostics were captured. */
  readonly captured: string[];
  readonly crashes: number;
  readonly writes: number;
}

export interface RunOptions {
  /** Kill the "process" at this status write, before or after it lands. */
  readonly crash?: { readonly at: number; readonly afterWrite: boolean };
  readonly fleet?: ProxyFleetSpec;
  /** Called at every status write of the canary. */
  readonly check?: (w: RolloutWorld, now: number, before: ProxyCanaryStatus, after: ProxyCanaryStatus) => void;
  readonly queryPrometheus?: QueryPrometheus;
  /** Called after every pass that did not crash, with the stored status: the world may change behind the canary's back. */
  readonly afterPass?: (status: ProxyCanaryStatus, world: RolloutWorld) => void;
}

/** Drives one canary with the real reconciler and rollout engine, time passing in scrape-sized steps, until it ends. */
export async function runCanary(c: ProxyCanary, world: WorldOptions, opts: RunOptions = {}): Promise<CanaryRun> {
  const end = await drive(setUp(c, world, opts), opts);
  if (end === 'converged') throw new Error('unreachable: no run to converge with');
  return end;
}

/** The state of a run at a point a crash could be made. */
interface Checkpoint {
  readonly now: number;
  readonly objects: KindMap[Kind][];
  readonly world: WorldState;
  readonly captured: readonly string[];
  readonly passes: number;
}

/** A clean run, with what resumeCanaryCrash needs to go on from any of its crash points. */
export type Recording = CrashRecording<CanaryRun, Checkpoint>;

/** runCanary without a crash (nor checks), keeping the state at every crash point and pass start. */
export async function recordCanary(c: ProxyCanary, world: WorldOptions): Promise<Recording> {
  const run = setUp(c, world, {});
  const rec = recorder<Checkpoint>();
  run.store.atCrashPoint = (after) => rec.atCrashPoint(after, { now: run.clock.now(), objects: run.store.saveObjects(), world: run.world.saveState(), captured: [...run.captured], passes: run.passes });
  const result = await drive(run, {}, rec.atPassStart);
  if (result === 'converged') throw new Error('unreachable: a clean run does not converge');
  return rec.done(result);
}

/**
 * The same as runCanary(c, world, { crash }), the quick way (as resumeCrash in rollout-harness.ts):
 * it starts from the clean run's state at the crash with a fresh reconciler, and ends as the
 * clean run did once a pass starts in a state a pass of the clean run started in (the reconciler
 * and the engine keep nothing in memory between passes).
 */
export async function resumeCanaryCrash(c: ProxyCanary, world: WorldOptions, clean: Recording, crash: CrashPoint): Promise<CanaryRun> {
  const run = setUp(c, world, {}, checkpointAt(clean, crash));
  run.store.writes = crash.at;
  run.reconciler.crashes = 1;
  const end = await drive(run, {}, (fingerprint) => clean.passStarts.has(fingerprint));
  return end === 'converged' ? { ...clean.result, crashes: run.reconciler.crashes } : end;
}

interface Run {
  readonly clock: ManualClock;
  readonly world: RolloutWorld;
  readonly store: CrashingStore;
  readonly reconciler: CrashRestarts;
  readonly captured: string[];
  readonly name: string;
  passes: number;
}

function setUp(c: ProxyCanary, world: WorldOptions, opts: RunOptions, from?: Checkpoint): Run {
  const spec = opts.fleet ?? canaryFleet();
  const clock = new ManualClock(from?.now ?? Date.UTC(2026, 0, 5));
  const worldOptions = { sessionHalfLifeMs: 60_000, ...world };
  const w = from ? RolloutWorld.restored(spec, clock, () => 20, worldOptions, from.world) : new RolloutWorld(spec, clock, () => 20, worldOptions);
  const store = new CrashingStore();
  if (opts.crash) {
    store.crashAt = opts.crash.at;
    store.crashAfterWrite = opts.crash.afterWrite;
  }
  if (from) store.loadObjects(from.objects);
  else {
    store.put(fleetResource(spec));
    store.put(c);
  }
  const check = opts.check;
  if (check) store.onAnyWrite = (kind, before, after) => kind === 'ProxyCanary' && check(w, clock.now(), before as ProxyCanaryStatus, after as ProxyCanaryStatus);
  const captured: string[] = [...(from?.captured ?? [])];
  // A fresh process after a crash: nothing in memory survives.
  const reconciler = new CrashRestarts(() =>
    createCanaryReconciler({
      store,
      clock,
      log: silentLog(),
      snapshotOf: () => w.snapshot(),
      engine: createRolloutEngine({ clock, sendNotice: w.sendNotice, runHook: w.runHook }),
      captureDiagnostics: async (_canary, proxy) => {
        captured.push(proxy.name);
        return { files: [`/state/diagnostics/${proxy.name}-goroutine.txt`] };
      },
      ...(opts.queryPrometheus ? { queryPrometheus: opts.queryPrometheus } : {}),
    }),
  );
  // The crashed pass is over: the next one takes over.
  return { clock, world: w, store, reconciler, captured, name: c.metadata.name, passes: from ? from.passes + 1 : 0 };
}

/** Passes until the canary ends; `atPassStart` sees the state each pass starts in, `true` from it ends the run there. */
async function drive(run: Run, opts: RunOptions, atPassStart?: (fingerprint: string) => boolean | void): Promise<CanaryRun | 'converged'> {
  const { clock, world: w, store, reconciler, captured } = run;
  const key = { kind: 'ProxyCanary', namespace: 'default', name: run.name };
  for (; run.passes < 20_000; run.passes++) {
    if (atPassStart?.(exactJson([clock.now(), store.saveObjects(), w.fingerprint(), captured]))) return 'converged';
    const result = await reconciler.pass(key, new AbortController().signal);
    if (!result) continue;
    const requeueAfterMs = result.requeueAfterMs;
    const status = (await store.get('ProxyCanary', 'default', run.name))?.status ?? {};
    opts.afterPass?.(status, w);
    if (['Promoted', 'RolledBack', 'Held', 'Invalid'].includes(status.phase ?? '')) return { status, world: w, store, captured, crashes: reconciler.crashes, writes: store.writes };
    if (requeueAfterMs === 0) continue;
    const step = Math.max(1, Math.min(requeueAfterMs ?? 30_000, 30_000));
    clock.advance(step);
    const held = new Set([...(status.deploy?.proxies ?? []), ...(status.revert?.proxies ?? [])].filter((p) => OUT_OF_ROTATION_STEPS.has(p.step)).map((p) => p.name));
    w.tick(step, held);
  }
  throw new Error('the canary did not finish');
}
