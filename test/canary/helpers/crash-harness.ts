import pino from 'pino';
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
import { MemoryStore } from '../../helpers/memory-store.js';
import { RolloutWorld, type WorldOptions } from '../../rollout/helpers/rollout-world.js';

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
  constructor(private readonly at = Infinity, private readonly after = false) {}

  /** A read (a Prometheus query): logged, never crashed at (the reconciler turns a throw there into an answer). */
  note(what: string): void {
    this.log.push(what);
  }

  async around<T>(what: string, effect: () => Promise<T>): Promise<T> {
    const n = ++this.calls;
    this.log.push(what.split(' ')[0] ?? what);
    if (n === this.at && !this.after) {
      this.crashes++;
      throw new Crash(`crash before ${what} (call ${n})`);
    }
    const result = await effect();
    if (n === this.at && this.after) {
      this.crashes++;
      throw new Crash(`crash after ${what} (call ${n})`);
    }
    return result;
  }
}

/** A store whose writes go through the crash point; it records the resources it created. */
class CrashingStore extends MemoryStore {
  readonly created: string[] = [];
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
  const point = new CrashPoint(crash?.at, crash?.after);
  const clock = new ManualClock(Date.UTC(2026, 0, 5));
  const world = new RolloutWorld(s.fleet, clock, () => 20, { sessionHalfLifeMs: 60_000, ...s.world });
  const store = new CrashingStore(point);
  store.put(fleetResource(s.fleet));
  store.put(s.canary);
  const captures: Captures = new Map();
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
      log: pino({ level: 'silent' }),
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
  let reconciler = fresh();
  const key: ResourceKey = { kind: 'ProxyCanary', namespace: s.canary.metadata.namespace ?? 'default', name: s.canary.metadata.name };
  const statusNow = async (): Promise<ProxyCanaryStatus> => (await store.get('ProxyCanary', key.namespace, key.name))?.status ?? {};
  const advance = async (ms: number): Promise<void> => {
    const st = await statusNow();
    const held = new Set([...(st.deploy?.proxies ?? []), ...(st.revert?.proxies ?? [])].filter((p) => OUT_OF_ROTATION_STEPS.has(p.step)).map((p) => p.name));
    clock.advance(ms);
    world.tick(ms, held);
  };
  const passes: { writes: number; changes: string[] }[] = [];
  for (let pass = 0; pass < 20_000; pass++) {
    let result: ReconcileResult;
    const from = point.log.length;
    // Another instance takes every pass (a leader hand-over): nothing in memory carries over.
    if (opts.handOverEveryPass) reconciler = fresh();
    try {
      result = await reconciler.reconcile(key, new AbortController().signal);
    } catch (e) {
      if (!(e instanceof Crash)) throw e;
      // The restart takes a scrape: whatever the dead process decided is gone unless it was stored.
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
