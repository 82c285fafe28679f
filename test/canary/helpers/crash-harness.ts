import assert from 'node:assert/strict';
import { createCanaryReconciler, type CaptureDiagnostics } from '../../../src/canary/canary-reconciler.js';
import type { Kind, KindMap } from '../../../src/model/kinds.js';
import type { ProxyCanary, ProxyCanaryStatus } from '../../../src/model/canary.js';
import type { ProxyFleetSpec } from '../../../src/model/fleet.js';
import type { QueryPrometheus } from '../../../src/model/prometheus.js';
import type { ResourceKey } from '../../../src/model/resource.js';
import { OUT_OF_ROTATION_STEPS } from '../../../src/model/rollout.js';
import type { StatusOf } from '../../../src/model/store.js';
import { createRolloutEngine } from '../../../src/rollout/rollout-engine.js';
import type { Reconciler, ReconcileResult } from '../../../src/runtime/reconciler.js';
import { fleet as fleetResource } from '../../helpers/fleet-fixture.js';
import { ManualClock } from '../../helpers/manual-clock.js';
import { silentLog } from '../../helpers/silent-log.js';
import { MemoryStore } from '../../helpers/memory-store.js';
import { exactJson } from '../../rollout/helpers/exact-json.js';
import { RolloutWorld, type WorldOptions, type WorldState } from '../../rollout/helpers/rollout-world.js';

export class Crash extends Error {}

/**
 * Every call that leaves the controller and changes something (status writes, creates, hooks,
 * notices, diagnostics captures), counted across the run; the n-th dies before or after it takes
 * effect (a process killed mid-pass).
 */
export class CrashPoint {
  calls = 0;
  crashes = 0;
  /** What each call was, in order: `write` for a status write, else the kind of outside change. */
  readonly log: string[] = [];
  /** At each point a crash could be made (n: the call's number). */
  atCrashPoint: (n: number, after: boolean) => void = () => undefined;
  constructor(private readonly at = Infinity, private readonly after = false) {}

  /** A read (a Prometheus query): logged, never crashed at (the reconciler turns a throw there into an answer). */
  note(what: string): void {
    this.log.push(what);
  }

  async around<T>(what: string, effect: () => Promise<T>): Promise<T> {
    const n = ++this.calls;
    this.log.push(what.split(' ')[0] ?? what);
    this.atCrashPoint(n, false);
    if (n === this.at && !this.after) {
      this.crashes++;
      throw new Crash(`crash before ${what} (call ${n})`);
    }
    const result = await effect();
    this.atCrashPoint(n, true);
    if (n === this.at && this.after) {
      this.crashes++;
      throw new Crash(`crash after ${what} (call ${n})`);
    }
    return result;
  }
}

/** A store whose writes go through the crash point; it records the resources it created. */
class CrashingStore extends MemoryStore {
  created: string[] = [];
  constructor(private readonly point: CrashPoint) {
    super();
  }
  override updateStatus<K extends Kind>(kind: K, namespace: string, name: string, status: StatusOf<K>): Promise<void> {
    return this.point.around(`write ${kind}`, () => super.updateStatus(kind, namespace, name, status));
  }
  override create<K extends Kind>(resource: KindMap[K]): Promise<void> {
    return this.point.around(`create ${resource.kind}`, async () => {
      await super.create(resource);
      this.created.push(`${resource.kind}/${resource.metadata.name}`);
    });
  }
}

/** What the diagnostics receiver holds: one entry per capture id and proxy (a capture made again with its id overwrites it). */
export type Captures = Map<string, { readonly proxy: string; readonly id: string; calls: number }>;

export interface CrashRun {
  readonly status: ProxyCanaryStatus;
  readonly world: RolloutWorld;
  readonly store: CrashingStore;
  readonly captures: Captures;
  readonly calls: number;
  readonly crashes: number;
  /** Each pass that did not crash: its status writes and the kinds of outside change it made. */
  readonly passes: readonly { readonly writes: number; readonly changes: readonly string[] }[];
}

export interface CrashCase {
  readonly fleet: ProxyFleetSpec;
  readonly canary: ProxyCanary;
  readonly world: WorldOptions;
  readonly queryPrometheus?: QueryPrometheus;
}

const SCRAPE_MS = 60_000;

/**
 * Runs a canary to its end with the real reconciler and rollout engine. With `crash`, the n-th
 * outside call dies; a fresh reconciler (nothing in memory) takes over from the store a scrape
 * later, as a restarted process or another instance would. `handOverEveryPass`: a fresh reconciler
 * takes each pass.
 */
export async function runCrashCase(s: CrashCase, crash?: { readonly at: number; readonly after: boolean }, opts: { readonly handOverEveryPass?: boolean } = {}): Promise<CrashRun> {
  const end = await drive(setUp(s, crash), opts);
  if (end === 'converged') throw new Error('unreachable: no run to converge with');
  return end;
}

/** The state of a run at a point a crash could be made. */
interface Checkpoint {
  readonly now: number;
  readonly objects: KindMap[Kind][];
  readonly created: readonly string[];
  readonly world: WorldState;
  readonly captures: Captures;
  readonly calls: number;
  readonly log: readonly string[];
  readonly passes: readonly { readonly writes: number; readonly changes: readonly string[] }[];
  readonly pass: number;
}

/** A clean run, with what resumeCrashCase needs to go on from any of its crash points. */
export interface Recording {
  readonly result: CrashRun;
  /** By `${call} ${after}`. */
  readonly points: ReadonlyMap<string, Checkpoint>;
  /** The state (fingerprint) at the start of each pass. */
  readonly passStarts: ReadonlySet<string>;
}

/** runCrashCase without a crash, keeping the state at every crash point and pass start. */
export async function recordCrashCase(s: CrashCase): Promise<Recording> {
  const run = setUp(s);
  const points = new Map<string, Checkpoint>();
  const passStarts = new Set<string>();
  run.point.atCrashPoint = (n, after) =>
    void points.set(`${n} ${after}`, { now: run.clock.now(), objects: run.store.saveObjects(), created: [...run.store.created], world: run.world.saveState(), captures: structuredClone(run.captures), calls: run.point.calls, log: [...run.point.log], passes: structuredClone(run.passes), pass: run.pass });
  const result = await drive(run, {}, (fingerprint) => void passStarts.add(fingerprint));
  if (result === 'converged') throw new Error('unreachable: a clean run does not converge');
  return { result, points, passStarts };
}

/**
 * The same as runCrashCase(s, crash), the quick way (as resumeCrash in rollout-harness.ts): it
 * starts from the clean run's state at the crash with a fresh reconciler, and ends as the clean
 * run did once a pass starts in a state a pass of the clean run started in (the reconciler and the
 * engine keep nothing in memory between passes).
 */
export async function resumeCrashCase(s: CrashCase, clean: Recording, crash: { readonly at: number; readonly after: boolean }): Promise<CrashRun> {
  const from = clean.points.get(`${crash.at} ${crash.after}`);
  assert.ok(from, `the clean run made call ${crash.at}`);
  const run = setUp(s, undefined, from);
  run.point.crashes = 1;
  const end = await drive(run, {}, (fingerprint) => clean.passStarts.has(fingerprint), true);
  return end === 'converged' ? { ...clean.result, crashes: run.point.crashes } : end;
}

interface Run {
  readonly point: CrashPoint;
  readonly clock: ManualClock;
  readonly world: RolloutWorld;
  readonly store: CrashingStore;
  readonly captures: Captures;
  readonly fresh: () => Reconciler;
  readonly key: ResourceKey;
  readonly passes: { writes: number; changes: string[] }[];
  pass: number;
}

function setUp(s: CrashCase, crash?: { readonly at: number; readonly after: boolean }, from?: Checkpoint): Run {
  const point = new CrashPoint(crash?.at, crash?.after);
  if (from) {
    point.calls = from.calls;
    point.log.push(...from.log);
  }
  const clock = new ManualClock(from?.now ?? Date.UTC(2026, 0, 5));
  const worldOptions = { sessionHalfLifeMs: 60_000, ...s.world };
  const world = from ? RolloutWorld.restored(s.fleet, clock, () => 20, worldOptions, from.world) : new RolloutWorld(s.fleet, clock, () => 20, worldOptions);
  const store = new CrashingStore(point);
  if (from) {
    store.loadObjects(from.objects);
    store.created = [...from.created];
  } else {
    store.put(fleetResource(s.fleet));
    store.put(s.canary);
  }
  const captures: Captures = from ? structuredClone(from.captures) : new Map();
  const captureDiagnostics: CaptureDiagnostics = (_canary, proxy, what) =>
    point.around(`capture ${proxy.name}`, async () => {
      const key = `${what.id} ${proxy.name}`;
      const seen = captures.get(key);
      if (seen) seen.calls++;
      else captures.set(key, { proxy: proxy.name, id: what.id, calls: 1 });
      return { files: [`/state/diagnostics/${proxy.name}-goroutine.txt`] };
    });
  const fresh = (): Reconciler =>
    createCanaryReconciler({
      store,
      clock,
      log: silentLog(),
      snapshotOf: () => world.snapshot(),
      engine: createRolloutEngine({
        clock,
        sendNotice: (channel, notice) => point.around(`notice ${notice.id}`, () => world.sendNotice(channel, notice)),
        runHook: (req) => point.around(`hook ${req.id}`, () => world.runHook(req)),
      }),
      captureDiagnostics,
      ...(s.queryPrometheus ? { queryPrometheus: queryPrometheus(s.queryPrometheus) } : {}),
    });
  const queryPrometheus = (q: QueryPrometheus): QueryPrometheus => (query, signal) => {
    point.note('query');
    return q(query, signal);
  };
  const key: ResourceKey = { kind: 'ProxyCanary', namespace: s.canary.metadata.namespace ?? 'default', name: s.canary.metadata.name };
  return { point, clock, world, store, captures, fresh, key, passes: from ? from.passes.map((p) => ({ writes: p.writes, changes: [...p.changes] })) : [], pass: from?.pass ?? 0 };
}

/**
 * Passes until the canary ends; `atPassStart` sees the state each pass starts in, `true` from it
 * ends the run there. `crashed`: the pass under way has just crashed (a resumed run).
 */
async function drive(run: Run, opts: { readonly handOverEveryPass?: boolean }, atPassStart?: (fingerprint: string) => boolean | void, crashed = false): Promise<CrashRun | 'converged'> {
  const { point, clock, world, store, captures, fresh, key, passes } = run;
  let reconciler = fresh();
  const statusNow = async (): Promise<ProxyCanaryStatus> => (await store.get('ProxyCanary', key.namespace, key.name))?.status ?? {};
  const advance = async (ms: number): Promise<void> => {
    const st = await statusNow();
    const held = new Set([...(st.deploy?.proxies ?? []), ...(st.revert?.proxies ?? [])].filter((p) => OUT_OF_ROTATION_STEPS.has(p.step)).map((p) => p.name));
    clock.advance(ms);
    world.tick(ms, held);
  };
  // The restart takes a scrape: whatever the dead process decided is gone unless it was stored.
  if (crashed) {
    await advance(SCRAPE_MS);
    run.pass++;
  }
  for (; run.pass < 20_000; run.pass++) {
    // Beside the world's fingerprint, what endState (canary-properties.test.ts) reads of the past: the last delivery of each notice id, the captures.
    const lastNotices = [...new Map(world.notices.map((n) => [n.id, `${n.channel} ${n.region} ${n.leadTime}`]))].sort();
    if (atPassStart?.(exactJson([clock.now(), store.saveObjects(), store.created, world.fingerprint(), lastNotices, [...captures.values()].map((c) => [c.id, c.proxy]).sort()]))) return 'converged';
    let result: ReconcileResult;
    const from = point.log.length;
    // Another instance takes every pass (a leader hand-over): nothing in memory carries over.
    if (opts.handOverEveryPass) reconciler = fresh();
    try {
      result = await reconciler.reconcile(key, new AbortController().signal);
    } catch (e) {
      if (!(e instanceof Crash)) throw e;
      reconciler = fresh();
      await advance(SCRAPE_MS);
      continue;
    }
    const calls = point.log.slice(from);
    passes.push({ writes: calls.filter((c) => c === 'write').length, changes: calls.filter((c) => c !== 'write') });
    const status = await statusNow();
    if (['Promoted', 'RolledBack', 'Held', 'Invalid'].includes(status.phase ?? '')) return { status, world, store, captures, calls: point.calls, crashes: point.crashes, passes };
    if (result.requeueAfterMs === 0) continue;
    await advance(Math.max(1, Math.min(result.requeueAfterMs ?? SCRAPE_MS, SCRAPE_MS)));
  }
  throw new Error('the canary did not finish');
}
