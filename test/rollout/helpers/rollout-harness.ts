import assert from 'node:assert/strict';
import type { ProxyFleetSpec } from '../../../src/model/fleet.js';
import type { Kind, KindMap } from '../../../src/model/kinds.js';
import { API_VERSION, type ResourceKey } from '../../../src/model/resource.js';
import { OUT_OF_ROTATION_STEPS, type ProxyRollout, type ProxyRolloutSpec, type ProxyRolloutStatus } from '../../../src/model/rollout.js';
import type { StatusOf } from '../../../src/model/store.js';
import { resolveSettings } from '../../../src/rollout/core/rollout-settings.js';
import { createRolloutReconciler } from '../../../src/rollout/rollout-reconciler.js';
import type { Reconciler, ReconcileResult } from '../../../src/runtime/reconciler.js';
import { fleet } from '../../helpers/fleet-fixture.js';
import { ManualClock } from '../../helpers/manual-clock.js';
import { silentLog } from '../../helpers/silent-log.js';
import { MemoryStore } from '../../helpers/memory-store.js';
import { exactJson } from './exact-json.js';
import { RolloutWorld, type WorldOptions, type WorldState } from './rollout-world.js';
import { insideWindow } from './window-check.js';
import { checkpointAt, recorder, type CrashPoint, type Recording as CrashRecording } from '../../helpers/crash-recording.js';

export class Crash extends Error {}

/**
 * Passes of a reconciler across simulated crashes: a Crash kills the "process", and a fresh
 * reconciler (nothing in memory survives) takes the next pass.
 */
export class CrashRestarts {
  crashes = 0;
  private reconciler: Reconciler;

  constructor(private readonly fresh: () => Reconciler) {
    this.reconciler = fresh();
  }

  /** One pass; undefined when it crashed. */
  async pass(key: ResourceKey, signal: AbortSignal): Promise<ReconcileResult | undefined> {
    try {
      return await this.reconciler.reconcile(key, signal);
    } catch (e) {
      if (!(e instanceof Crash)) throw e;
      this.crashes++;
      this.reconciler = this.fresh();
      return undefined;
    }
  }
}

/** Dies at the n-th status write, before or after it lands (a process killed mid-pass). */
export class CrashingStore extends MemoryStore {
  writes = 0;
  crashAt = Infinity;
  crashAfterWrite = false;
  onWrite: (before: ProxyRolloutStatus, after: ProxyRolloutStatus) => void = () => undefined;
  /** Every status write of any kind, with the status before it. */
  onAnyWrite: (kind: Kind, before: unknown, after: unknown) => void = () => undefined;
  /** At each point a crash could be made: before the write lands, and after it. */
  atCrashPoint: (afterWrite: boolean) => void = () => undefined;

  override async updateStatus<K extends Kind>(kind: K, namespace: string, name: string, status: StatusOf<K>): Promise<void> {
    this.writes++;
    this.atCrashPoint(false);
    if (this.writes === this.crashAt && !this.crashAfterWrite) throw new Crash(`crash before write ${this.writes}`);
    const before = (await this.get(kind, namespace, name))?.status ?? {};
    await super.updateStatus(kind, namespace, name, status);
    if (kind === 'ProxyRollout') this.onWrite(before as ProxyRolloutStatus, status as ProxyRolloutStatus);
    this.onAnyWrite(kind, before, status);
    this.atCrashPoint(true);
    if (this.writes === this.crashAt && this.crashAfterWrite) throw new Crash(`crash after write ${this.writes}`);
  }
}

export interface Scenario {
  readonly fleet: ProxyFleetSpec;
  readonly rollout: ProxyRolloutSpec;
  readonly startAt: number;
  readonly sessions: (name: string) => number;
  readonly world?: WorldOptions;
  /** Proxies that are not ready throughout. */
  readonly unhealthy?: readonly string[];
  /** Proxies another run (a canary) holds out of rotation, by time. */
  readonly outOfRotation?: (now: number) => readonly string[];
  /** Proxies live canaries hold, with who holds them, by time. */
  readonly claimedByCanaries?: (now: number) => ReadonlyMap<string, string>;
}

export interface RunResult {
  readonly status: ProxyRolloutStatus;
  readonly world: RolloutWorld;
  readonly writes: number;
  readonly passes: number;
  readonly crashes: number;
  readonly clock: ManualClock;
  /** The store the run ended with, to go on with it (a restart after the end). */
  readonly store: CrashingStore;
}

const SCRAPE_MS = 30_000;
const LIMIT_MS = 45 * 86_400_000;

export interface Intervention {
  /** Called after every pass with the stored status; may patch the spec (an operator's command). */
  readonly afterPass: (status: ProxyRolloutStatus, store: MemoryStore, env: { readonly world: RolloutWorld; readonly clock: ManualClock }) => Promise<void>;
}

/**
 * Runs a rollout to its end with the real reconciler over an in-memory store, a manual clock and
 * a RolloutWorld, checking the invariants at every status write. `crash` kills the "process" at
 * one write (before or after it lands); a fresh reconciler then resumes from the store.
 */
export async function runScenario(s: Scenario, crash?: { at: number; afterWrite: boolean }, intervention?: Intervention): Promise<RunResult> {
  const run = setUp(s, crash);
  const end = await drive(s, run, intervention);
  if (end === 'converged') throw new Error('unreachable: no run to converge with');
  return end;
}

/** The state of a run at a point a crash could be made. */
interface Checkpoint {
  readonly now: number;
  readonly objects: KindMap[Kind][];
  readonly world: WorldState;
  readonly passes: number;
}

/** A clean run, with what resumeCrash needs to go on from any of its crash points. */
export type Recording = CrashRecording<RunResult, Checkpoint>;

/** runScenario without a crash, keeping the state at every crash point and pass start. */
export async function recordScenario(s: Scenario): Promise<Recording> {
  const run = setUp(s);
  const rec = recorder<Checkpoint>();
  run.store.atCrashPoint = (after) => rec.atCrashPoint(after, { now: run.clock.now(), objects: run.store.saveObjects(), world: run.world.saveState(), passes: run.passes });
  const result = await drive(s, run, undefined, rec.atPassStart);
  if (result === 'converged') throw new Error('unreachable: a clean run does not converge');
  return rec.done(result);
}

/**
 * The same as runScenario(s, crash), the quick way. The run is deterministic, so up to the crash it
 * is the clean run: it starts from the clean run's state at that point, with a fresh reconciler
 * (the crash killed the old one). The reconciler keeps nothing in memory between passes, so once a
 * pass starts in a state some pass of the clean run started in (store, clock, and the world's
 * fingerprint: all it will do and all the checks look at), the rest is the clean run's: the run
 * ends as the clean run did, with every check on the way already passed there.
 */
export async function resumeCrash(s: Scenario, clean: Recording, crash: CrashPoint): Promise<RunResult> {
  const run = setUp(s, undefined, checkpointAt(clean, crash));
  run.store.writes = crash.at;
  run.reconciler.crashes = 1;
  const end = await drive(s, run, undefined, (fingerprint) => clean.passStarts.has(fingerprint));
  return end === 'converged' ? { ...clean.result, crashes: run.reconciler.crashes } : end;
}

interface Run {
  readonly clock: ManualClock;
  readonly world: RolloutWorld;
  readonly store: CrashingStore;
  readonly reconciler: CrashRestarts;
  readonly settings: ReturnType<typeof resolveSettings>;
  passes: number;
}

function setUp(s: Scenario, crash?: { at: number; afterWrite: boolean }, from?: Checkpoint): Run {
  const clock = new ManualClock(from?.now ?? s.startAt);
  const world = from ? RolloutWorld.restored(s.fleet, clock, s.sessions, s.world ?? {}, from.world) : new RolloutWorld(s.fleet, clock, s.sessions, s.world);
  if (!from) for (const name of s.unhealthy ?? []) world.setHealthy(name, false);
  const store = new CrashingStore();
  if (from) store.loadObjects(from.objects);
  else {
    store.put(fleet(s.fleet));
    const rollout: ProxyRollout = { apiVersion: API_VERSION, kind: 'ProxyRollout', metadata: { name: 'upgrade', namespace: 'default', generation: 1 }, spec: s.rollout };
    store.put(rollout);
  }
  if (crash) {
    store.crashAt = crash.at;
    store.crashAfterWrite = crash.afterWrite;
  }
  store.onWrite = (before, after) => checkWrite(s, world, clock.now(), before, after);
  const reconciler = new CrashRestarts(() =>
    createRolloutReconciler({
      store,
      clock,
      log: silentLog(),
      snapshotOf: () => world.snapshot(),
      sendNotice: world.sendNotice,
      runHook: world.runHook,
      ...(s.outOfRotation ? { outOfRotation: () => new Set(s.outOfRotation?.(clock.now())) } : {}),
      ...(s.claimedByCanaries ? { claimedByCanaries: () => s.claimedByCanaries?.(clock.now()) ?? new Map() } : {}),
    }),
  );
  return { clock, world, store, reconciler, settings: resolveSettings(s.rollout, s.fleet), passes: from?.passes ?? 0 };
}

/**
 * Passes until the rollout ends, time moving between them. `atPassStart` sees the state each pass
 * starts in; `true` from it ends the run there ('converged').
 */
async function drive(s: Scenario, run: Run, intervention?: Intervention, atPassStart?: (fingerprint: string) => boolean | void): Promise<RunResult | 'converged'> {
  const { clock, world, store, reconciler, settings } = run;
  const key = { kind: 'ProxyRollout', namespace: 'default', name: 'upgrade' };
  const signal = new AbortController().signal;
  for (;;) {
    if (atPassStart?.(exactJson([clock.now(), store.saveObjects(), world.fingerprint()]))) return 'converged';
    run.passes++;
    assert.ok(run.passes < 200_000, 'the rollout makes no progress');
    const result = await reconciler.pass(key, signal);
    if (!result) continue;
    const requeue = result.requeueAfterMs;
    const status = (await store.get('ProxyRollout', 'default', 'upgrade'))?.status ?? {};
    await intervention?.afterPass(status, store, { world, clock });
    if (status.phase === 'Completed' || status.phase === 'Failed' || status.phase === 'Aborted' || status.phase === 'Invalid') {
      checkEnd(world, status);
      return { status, world, writes: store.writes, passes: run.passes, crashes: reconciler.crashes, clock, store };
    }
    if (requeue === 0) continue;
    const held = heldSet(status);
    // Observations arrive every scrape while proxies are held out; otherwise the wake-up time rules.
    const step = held.size ? Math.min(requeue ?? SCRAPE_MS, SCRAPE_MS) : (requeue ?? 3_600_000);
    clock.advance(Math.max(1, step));
    world.tick(Math.max(1, step), held);
    assert.ok(clock.now() - s.startAt < LIMIT_MS, `not finished after 45 days: ${status.message ?? ''}`);
  }

  function heldSet(status: ProxyRolloutStatus): Set<string> {
    return new Set((status.proxies ?? []).filter((p) => OUT_OF_ROTATION_STEPS.has(p.step)).map((p) => p.name));
  }

  function checkEnd(w: RolloutWorld, status: ProxyRolloutStatus): void {
    assert.equal(heldSet(status).size, 0, 'a finished rollout holds no proxy out of rotation');
    for (const p of w.proxies.values()) assert.ok(p.inLoadBalancer, `${p.name} is back in the load balancer`);
    for (const p of status.proxies ?? []) {
      if (p.step !== 'Done') continue;
      assert.equal(w.proxies.get(p.name)?.version, settings.version, `${p.name} runs the target`);
      assert.equal(w.proxies.get(p.name)?.restarts, 1, `${p.name} restarted once`);
    }
    // Every upgrade that cut sessions came after the drain deadline.
    for (const h of w.hooks) {
      if (h.req.action !== 'upgrade' || !h.tookEffect || h.sessions === 0) continue;
      const p = status.proxies?.find((x) => x.name === h.req.proxy.name);
      assert.ok(p?.outAt, `${h.req.proxy.name} was taken out before its upgrade`);
      assert.ok(h.at >= Date.parse(p.outAt) + settings.drainDeadlineMs, `${h.req.proxy.name}: ${h.sessions} sessions cut before the drain deadline`);
    }
  }
}

/** The invariants every status write must keep. */
export function checkWrite(s: Pick<Scenario, 'fleet' | 'rollout'>, world: RolloutWorld, now: number, before: ProxyRolloutStatus, after: ProxyRolloutStatus): void {
  const settings = resolveSettings(s.rollout, s.fleet);
  const held = (st: ProxyRolloutStatus) => new Set((st.proxies ?? []).filter((p) => OUT_OF_ROTATION_STEPS.has(p.step)).map((p) => p.name));
  const heldBefore = held(before);
  const heldAfter = held(after);
  for (const region of s.fleet.regions) {
    const members = s.fleet.proxies.filter((p) => p.region === region.name);
    const out = members.filter((p) => heldAfter.has(p.name)).length;
    assert.ok(out <= settings.maxUnavailable(members.length), `${region.name}: ${out} out of rotation, more than maxUnavailable`);
    const readyIn = (h: Set<string>) => members.filter((p) => !p.cordoned && !h.has(p.name) && world.isReady(p.name)).length;
    if (!settings.allowRegionOutage && readyIn(heldBefore) >= 1)
      assert.ok(readyIn(heldAfter) >= 1, `${region.name}: the last ready proxy was taken out of rotation`);
  }
  for (const p of after.proxies ?? []) {
    if (!heldAfter.has(p.name) || heldBefore.has(p.name)) continue;
    // Newly out of rotation: inside the window, every notice out for its full lead time.
    assert.equal(p.outAt, new Date(now).toISOString());
    const region = s.fleet.regions.find((r) => r.name === p.region);
    const windows = s.rollout.maintenanceWindows?.[p.region] ?? region?.maintenanceWindows ?? [];
    assert.ok(insideWindow(windows, region?.timeZone ?? 'UTC', now), `${p.name} taken out at ${p.outAt}, outside its window`);
    for (const lead of settings.leadTimes) {
      const channels = settings.channels;
      if (channels.length === 0) {
        const given = (after.notices ?? []).some((n) => n.region === p.region && n.leadTime === lead.text && n.givenAt !== undefined && Date.parse(n.givenAt) <= now - lead.ms);
        assert.ok(given, `${p.name}: no ${lead.text} notice logged in time`);
        continue;
      }
      for (const channel of channels) {
        const told = world.notices.some((n) => n.region === p.region && n.leadTime === lead.text && n.channel === channel && n.at <= now - lead.ms);
        assert.ok(told || !settings.blockOnNoticeFailure, `${p.name}: users not told ${lead.text} ahead on ${channel}`);
      }
    }
  }
}
