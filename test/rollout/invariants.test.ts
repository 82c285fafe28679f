import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import pino from 'pino';
import { createHookRunner, readSecret, runCommand } from '../../src/adapters/hooks/index.js';
import { createNoticeSender } from '../../src/adapters/notify/index.js';
import { createDiagnosticClient } from '../../src/adapters/teleport/diagnostic-client.js';
import type { Delivery, DeliveryFailure, HookRequest, RunHook, SendNotice } from '../../src/model/actuators.js';
import type { MaintenanceWindow, Proxy, ProxyFleetSpec, Region } from '../../src/model/fleet.js';
import { err, type Result } from '../../src/model/result.js';
import type { Kind, KindMap } from '../../src/model/kinds.js';
import { API_VERSION } from '../../src/model/resource.js';
import { EMPTY_SNAPSHOT, type FleetSnapshot } from '../../src/model/snapshot.js';
import { createObserver } from '../../src/observer/observer.js';
import { OUT_OF_ROTATION_STEPS, type NoticeChannel, type ProxyRollout, type ProxyRolloutSpec, type ProxyRolloutStatus } from '../../src/model/rollout.js';
import { nextWindow } from '../../src/rollout/core/maintenance-window.js';
import { createRolloutReconciler } from '../../src/rollout/rollout-reconciler.js';
import { closeServer, listen, readBody } from '../../src/sim/http-util.js';
import { startFleetSim, type ProxyView } from '../../src/sim/index.js';
import { fleet as fleetResource } from '../helpers/fleet-fixture.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { checkWrite, Crash, CrashingStore, CrashRestarts } from './helpers/rollout-harness.js';
import { exactJson } from './helpers/exact-json.js';
import { RolloutWorld, type WorldOptions, type WorldState } from './helpers/rollout-world.js';

// ---------------------------------------------------------------------------------------------
// A runner around the real reconciler, the in-memory CrashingStore and the RolloutWorld of the
// existing harness, that can also crash before or after any hook or notice call, inject hook and
// notice faults, restart the controller on purpose (optionally before the first observation),
// move the clock, edit the spec and run another run next to it.
// ---------------------------------------------------------------------------------------------

type Outcome = Result<Delivery, DeliveryFailure>;
type Day = MaintenanceWindow['days'][number];

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const SCRAPE_MS = 30_000;
const ALL_DAYS: Day[] = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const ALWAYS: MaintenanceWindow[] = [{ days: ALL_DAYS, start: '00:00', duration: '24h' }];
const HOOK = { method: 'webhook' as const, url: 'https://hooks.example.com/upgrade' };
const OPS: NoticeChannel = { name: 'ops', type: 'webhook', url: 'https://notify.example.com/ops' };
const CHAT: NoticeChannel = { name: 'chat', type: 'slack', url: 'https://hooks.slack.example/x' };
/** Thursday 2026-01-01 00:00 UTC. */
const THURSDAY = Date.UTC(2026, 0, 1);
const KEY = { kind: 'ProxyRollout', namespace: 'default', name: 'upgrade' };
const iso = (ms: number): string => new Date(ms).toISOString();

const REGIONS: Record<string, Region> = {
  tokyo: { name: 'tokyo', latitude: 35.68, longitude: 139.69, timeZone: 'Asia/Tokyo' },
  london: { name: 'london', latitude: 51.51, longitude: -0.13, timeZone: 'Europe/London', default: true },
  chicago: { name: 'chicago', latitude: 41.88, longitude: -87.63, timeZone: 'America/Chicago' },
  sydney: { name: 'sydney', latitude: -33.87, longitude: 151.21, timeZone: 'Australia/Sydney' },
  'sao-paulo': { name: 'sao-paulo', latitude: -23.55, longitude: -46.63, timeZone: 'America/Sao_Paulo' },
  apia: { name: 'apia', latitude: -13.83, longitude: -171.76, timeZone: 'Pacific/Apia' },
};

function proxy(name: string, region: string, upgrade: Proxy['upgrade'] = HOOK): Proxy {
  return { name, region, publicUrl: `https://${name}.example.com`, diagnosticUrl: `http://127.0.0.1:9/${name}`, version: '17.4.2', ...(upgrade ? { upgrade } : {}) };
}

/** Regions (by name) with `n` proxies each, every region with the given windows. */
function makeFleet(perRegion: Record<string, number>, windows: MaintenanceWindow[] = ALWAYS): ProxyFleetSpec {
  const names = Object.keys(perRegion);
  return {
    regions: names.map((r) => {
      const region = REGIONS[r];
      assert.ok(region, `region ${r}`);
      return { ...region, maintenanceWindows: windows };
    }),
    proxies: names.flatMap((r) => Array.from({ length: perRegion[r] ?? 0 }, (_, i) => proxy(`${r}-${i + 1}`, r))),
  };
}

function rolloutResource(spec: ProxyRolloutSpec, name = 'upgrade'): ProxyRollout {
  return { apiVersion: API_VERSION, kind: 'ProxyRollout', metadata: { name, namespace: 'default', generation: 1 }, spec };
}

const heldOf = (st: ProxyRolloutStatus | undefined): Set<string> => new Set((st?.proxies ?? []).filter((p) => OUT_OF_ROTATION_STEPS.has(p.step)).map((p) => p.name));
const stepOf = (st: ProxyRolloutStatus, name: string): string | undefined => st.proxies?.find((p) => p.name === name)?.step;
const TERMINAL = new Set(['Completed', 'Failed', 'Aborted', 'Invalid']);

type CrashPoint = { readonly on: 'write' | 'hook' | 'notice'; readonly at: number; readonly after: boolean };

interface Handle {
  readonly status: ProxyRolloutStatus;
  readonly world: RolloutWorld;
  readonly clock: ManualClock;
  /** Kills the controller now; the next pass is a fresh one. `blind`: it starts before the observer's first scrape. */
  restart(blind: boolean): void;
  editSpec(edit: (spec: ProxyRolloutSpec) => ProxyRolloutSpec): void;
  editFleet(edit: (spec: ProxyFleetSpec) => ProxyFleetSpec): void;
}

interface WriteRecord {
  readonly at: number;
  readonly before: ProxyRolloutStatus;
  readonly after: ProxyRolloutStatus;
}

interface RunOptions {
  readonly fleet: ProxyFleetSpec;
  readonly rollout: ProxyRolloutSpec;
  readonly startAt?: number;
  readonly sessions?: (name: string) => number;
  readonly world?: WorldOptions;
  readonly crash?: CrashPoint;
  /** Wraps every hook call: `call` makes it take effect in the world. */
  readonly hook?: (req: HookRequest, call: () => Promise<Outcome>) => Promise<Outcome>;
  readonly outOfRotation?: (now: number) => readonly string[];
  /** Run the harness's per-write invariant check against the original spec (default true). */
  readonly check?: boolean;
  readonly afterPass?: (h: Handle) => Promise<void> | void;
  readonly maxDays?: number;
  /** Keep the state at every crash point and pass start (a clean run, for resumeCrash). */
  readonly record?: Recording;
  /** Go on from a clean run's crash point (see resumeCrash). */
  readonly resume?: { readonly from: Checkpoint; readonly clean: RunResult; readonly passStarts: ReadonlySet<string> };
}

/** The state of a run at a point a crash could be made. */
interface Checkpoint {
  readonly now: number;
  readonly objects: KindMap[Kind][];
  readonly world: WorldState;
  readonly writes: readonly WriteRecord[];
  readonly hookCalls: number;
  readonly noticeCalls: number;
  readonly received: RunResult['received'];
  readonly passes: number;
  readonly storeWrites: number;
}

interface Recording {
  /** By crashKey. */
  readonly points: Map<string, Checkpoint>;
  /** The state (fingerprint) at the start of each pass. */
  readonly passStarts: Set<string>;
}

const crashKey = (c: CrashPoint): string => `${c.on} ${c.at} ${c.after}`;

interface RunResult {
  readonly status: ProxyRolloutStatus;
  readonly world: RolloutWorld;
  readonly clock: ManualClock;
  readonly writes: readonly WriteRecord[];
  readonly crashes: number;
  readonly hookCalls: number;
  readonly noticeCalls: number;
  readonly received: readonly { readonly id: string; readonly channel: string; readonly leadTime: string; readonly region: string; readonly at: number }[];
}

async function run(o: RunOptions): Promise<RunResult> {
  const startAt = o.startAt ?? THURSDAY;
  const from = o.resume?.from;
  assert.ok(!from || (!o.hook && !o.afterPass && !o.outOfRotation && !o.crash), 'resume only runs without interventions');
  const clock = new ManualClock(from?.now ?? startAt);
  const world = from ? RolloutWorld.restored(o.fleet, clock, o.sessions ?? (() => 50), o.world ?? {}, from.world) : new RolloutWorld(o.fleet, clock, o.sessions ?? (() => 50), o.world);
  const store = new CrashingStore();
  if (from) {
    store.loadObjects(from.objects);
    store.writes = from.storeWrites;
  } else {
    store.put(fleetResource(o.fleet));
    store.put(rolloutResource(o.rollout));
  }
  if (o.crash?.on === 'write') {
    store.crashAt = o.crash.at;
    store.crashAfterWrite = o.crash.after;
  }
  const writes: WriteRecord[] = [...(from?.writes ?? [])];
  store.onWrite = (before, after) => {
    writes.push({ at: clock.now(), before, after });
    if (o.check !== false) checkWrite({ fleet: o.fleet, rollout: o.rollout }, world, clock.now(), before, after);
  };
  let hookCalls = from?.hookCalls ?? 0;
  let noticeCalls = from?.noticeCalls ?? 0;
  const received: { id: string; channel: string; leadTime: string; region: string; at: number }[] = structuredClone([...(from?.received ?? [])]);
  let passes = from?.passes ?? 0;
  const crashPoint = (c: CrashPoint): void =>
    void o.record?.points.set(crashKey(c), { now: clock.now(), objects: store.saveObjects(), world: world.saveState(), writes: [...writes], hookCalls, noticeCalls, received: structuredClone(received), passes, storeWrites: store.writes });
  store.atCrashPoint = (after) => crashPoint({ on: 'write', at: store.writes, after });
  const runHook: RunHook = async (req) => {
    const n = ++hookCalls;
    crashPoint({ on: 'hook', at: n, after: false });
    if (o.crash?.on === 'hook' && o.crash.at === n && !o.crash.after) throw new Crash(`crash before hook call ${n}`);
    const r = o.hook ? await o.hook(req, () => world.runHook(req)) : await world.runHook(req);
    crashPoint({ on: 'hook', at: n, after: true });
    if (o.crash?.on === 'hook' && o.crash.at === n && o.crash.after) throw new Crash(`crash after hook call ${n}`);
    return r;
  };
  const sendNotice: SendNotice = async (channel, notice) => {
    const n = ++noticeCalls;
    crashPoint({ on: 'notice', at: n, after: false });
    if (o.crash?.on === 'notice' && o.crash.at === n && !o.crash.after) throw new Crash(`crash before notice call ${n}`);
    const r = await world.sendNotice(channel, notice);
    if (r.ok) received.push({ id: notice.id, channel: channel.name, leadTime: notice.leadTime, region: notice.region, at: clock.now() });
    crashPoint({ on: 'notice', at: n, after: true });
    if (o.crash?.on === 'notice' && o.crash.at === n && o.crash.after) throw new Crash(`crash after notice call ${n}`);
    return r;
  };
  let blind = 0;
  const fresh = () =>
    createRolloutReconciler({
      store,
      clock,
      log: pino({ level: 'silent' }),
      snapshotOf: () => {
        if (blind > 0) {
          blind--;
          return undefined;
        }
        return world.snapshot();
      },
      sendNotice,
      runHook,
      ...(o.outOfRotation ? { outOfRotation: () => new Set(o.outOfRotation?.(clock.now())) } : {}),
    });
  let controller = new CrashRestarts(fresh);
  // Resumed at a crash: the process that made it is gone.
  if (from) controller.crashes = 1;
  let crashes = 0;
  let status: ProxyRolloutStatus = {};
  let rolloutSpec = o.rollout;
  let rolloutGeneration = 1;
  let fleetSpec = o.fleet;
  let fleetGeneration = 1;
  const signal = new AbortController().signal;
  const handle: Handle = {
    get status() {
      return status;
    },
    world,
    clock,
    restart(b: boolean) {
      crashes += controller.crashes;
      controller = new CrashRestarts(fresh);
      blind = b ? 1 : 0;
    },
    editSpec(edit) {
      // Only this runner edits: the stored object is the spec and generation it last wrote, with the status just read.
      rolloutSpec = edit(rolloutSpec);
      store.put({ ...rolloutResource(rolloutSpec), metadata: { name: 'upgrade', namespace: 'default', generation: ++rolloutGeneration }, status });
    },
    editFleet(edit) {
      fleetSpec = edit(fleetSpec);
      store.put(fleetResource(fleetSpec, ++fleetGeneration));
    },
  };
  const limit = startAt + (o.maxDays ?? 45) * DAY;
  for (;;) {
    if (o.record || o.resume) {
      const fingerprint = exactJson([clock.now(), store.saveObjects(), world.fingerprint()]);
      o.record?.passStarts.add(fingerprint);
      if (o.resume?.passStarts.has(fingerprint)) return { ...o.resume.clean, crashes: controller.crashes };
    }
    passes++;
    assert.ok(passes < 100_000, 'the rollout makes no progress');
    const result = await controller.pass(KEY, signal);
    if (!result) continue;
    status = (await store.get('ProxyRollout', 'default', 'upgrade'))?.status ?? {};
    await o.afterPass?.(handle);
    if (TERMINAL.has(status.phase ?? '')) break;
    if (result.requeueAfterMs === 0) continue;
    const held = heldOf(status);
    const stepMs = Math.max(1, held.size ? Math.min(result.requeueAfterMs ?? SCRAPE_MS, SCRAPE_MS) : (result.requeueAfterMs ?? HOUR));
    clock.advance(stepMs);
    world.tick(stepMs, held);
    if (clock.now() > limit) break;
  }
  return { status, world, clock, writes, crashes: crashes + controller.crashes, hookCalls, noticeCalls, received };
}

/** A clean run (no crash, no interventions), with what resumeCrash needs to go on from any of its crash points. */
async function recordRun(o: RunOptions): Promise<{ readonly result: RunResult } & Recording> {
  const record: Recording = { points: new Map(), passStarts: new Set() };
  return { result: await run({ ...o, record }), ...record };
}

/**
 * The same as run({ ...o, crash }), the quick way: the run is deterministic, so up to the crash it is
 * the clean run; it starts from the clean run's state at that point with a fresh reconciler. The
 * reconciler keeps nothing in memory between passes, so once a pass starts in a state a pass of the
 * clean run started in (store, clock, and the world's fingerprint: all it will do and all the
 * checks look at), the rest is the clean run's, and the run ends as the clean run did.
 */
async function resumeCrash(o: RunOptions, clean: { readonly result: RunResult } & Recording, crash: CrashPoint): Promise<RunResult> {
  const from = clean.points.get(crashKey(crash));
  assert.ok(from, `the clean run has crash point ${crashKey(crash)}`);
  return run({ ...o, resume: { from, clean: clean.result, passStarts: clean.passStarts } });
}

/** What a run leaves behind in the world and the status, for comparing runs. */
function endState(r: RunResult) {
  return {
    phase: r.status.phase,
    steps: (r.status.proxies ?? []).map((p) => [p.name, p.step]),
    world: [...r.world.proxies.values()].map((p) => [p.name, p.version, p.restarts, p.inLoadBalancer]),
    delivered: [...new Set(r.received.map((n) => `${n.id} ${n.channel}`))].sort(),
  };
}

/** Largest number of a region's proxies held out at once by the run, over every status write. */
function maxHeldPerRegion(r: RunResult, f: ProxyFleetSpec, extra: (at: number) => readonly string[] = () => []): Map<string, number> {
  const out = new Map<string, number>();
  for (const w of r.writes) {
    const held = new Set([...heldOf(w.after), ...extra(w.at)]);
    for (const region of f.regions) {
      const n = f.proxies.filter((p) => p.region === region.name && held.has(p.name)).length;
      out.set(region.name, Math.max(out.get(region.name) ?? 0, n));
    }
  }
  return out;
}

/** Proxies newly taken out of rotation at a write, with the time. */
function takeOuts(r: RunResult): { name: string; region: string; at: number }[] {
  const out: { name: string; region: string; at: number }[] = [];
  for (const w of r.writes) {
    const before = heldOf(w.before);
    for (const p of w.after.proxies ?? []) if (OUT_OF_ROTATION_STEPS.has(p.step) && !before.has(p.name)) out.push({ name: p.name, region: p.region, at: w.at });
  }
  return out;
}

/** Every proxy taken out was inside its region's current window, and every lead time's notice of that window had reached every channel its full lead ahead. */
function assertToldAhead(r: RunResult, leads: readonly { readonly text: string; readonly ms: number }[], channels: readonly string[]): number {
  let checked = 0;
  for (const w of r.writes) {
    const before = heldOf(w.before);
    for (const p of w.after.proxies ?? []) {
      if (!OUT_OF_ROTATION_STEPS.has(p.step) || before.has(p.name)) continue;
      checked++;
      const window = w.after.windows?.find((x) => x.region === p.region);
      assert.ok(window && Date.parse(window.startAt) <= w.at && w.at < Date.parse(window.endAt), `${p.name} out at ${iso(w.at)} outside its window`);
      for (const lead of leads)
        for (const channel of channels) {
          const ids = new Set((w.after.notices ?? []).filter((n) => n.region === p.region && n.leadTime === lead.text && n.windowStartAt === window.startAt).map((n) => n.id));
          const first = r.received.filter((n) => ids.has(n.id) && n.channel === channel).map((n) => n.at)[0];
          assert.ok(first !== undefined && first <= w.at - lead.ms, `${p.name} out at ${iso(w.at)}: the ${lead.text} notice reached ${channel} ${first === undefined ? 'never' : `at ${iso(first)}, only ${Math.round((w.at - first) / MIN)} min ahead`}`);
        }
    }
  }
  return checked;
}

/** Sessions were cut (an upgrade of a proxy with sessions open) only once the drain deadline had passed since `from`. */
function assertNoEarlyCut(r: RunResult, deadlineMs: number, from: (proxy: string) => number | undefined): number {
  let cuts = 0;
  for (const h of r.world.hooks) {
    if (h.req.action !== 'upgrade' || !h.tookEffect || h.sessions === 0) continue;
    cuts++;
    const start = from(h.req.proxy.name);
    assert.ok(start !== undefined, `${h.req.proxy.name}: upgraded with ${h.sessions} sessions open but never taken out`);
    assert.ok(h.at >= start + deadlineMs, `${h.req.proxy.name}: ${h.sessions} sessions cut ${Math.round((start + deadlineMs - h.at) / 1000)} s before the drain deadline`);
  }
  return cuts;
}

const outAtOf = (r: RunResult) => (name: string): number | undefined => {
  const p = r.status.proxies?.find((x) => x.name === name);
  return p?.outAt ? Date.parse(p.outAt) : undefined;
};

// ---------------------------------------------------------------------------------------------
// Crash safety
// ---------------------------------------------------------------------------------------------

const CRASH_SCENARIO: RunOptions = {
  fleet: makeFleet({ tokyo: 3, london: 2 }),
  rollout: { version: '17.4.8', maxUnavailable: 2, notice: { leadTimes: ['1h', '10m'], channels: [OPS] }, drain: { deadline: '20m' }, verify: { consecutiveScrapes: 2, timeout: '10m' } },
  sessions: () => 40,
};

test('a crash before or after every status write, hook call and notice call resumes to the clean end state: every proxy upgraded by exactly one restart, back in the load balancer', async () => {
  const recorded = await recordRun(CRASH_SCENARIO);
  const clean = recorded.result;
  assert.equal(clean.status.phase, 'Completed', clean.status.message);
  const expected = endState(clean);
  for (const p of clean.world.proxies.values()) assert.deepEqual([p.name, p.version, p.restarts, p.inLoadBalancer], [p.name, '17.4.8', 1, true]);
  const points: CrashPoint[] = [];
  for (let at = 1; at <= clean.writes.length; at++) points.push({ on: 'write', at, after: false }, { on: 'write', at, after: true });
  for (let at = 1; at <= clean.hookCalls; at++) points.push({ on: 'hook', at, after: false }, { on: 'hook', at, after: true });
  for (let at = 1; at <= clean.noticeCalls; at++) points.push({ on: 'notice', at, after: false }, { on: 'notice', at, after: true });
  const judge = (r: RunResult, what: string): void => {
    assert.equal(r.crashes, 1, `${what}: the crash happened`);
    assert.deepEqual(endState(r), expected, what);
    // Every upgrade that took effect came through one hook id per proxy (none repeated under a new id).
    const effective = r.world.hooks.filter((h) => h.tookEffect && h.req.action === 'upgrade');
    assert.deepEqual(effective.map((h) => h.req.proxy.name).sort(), [...r.world.proxies.keys()].sort(), what);
    assertNoEarlyCut(r, 20 * MIN, outAtOf(r));
  };
  for (const crash of points) judge(await resumeCrash(CRASH_SCENARIO, recorded, crash), `crash ${crash.after ? 'after' : 'before'} ${crash.on} ${crash.at}`);
  // resumeCrash is the run from the start, the quick way: the slow way agrees, on one point of each kind.
  for (const crash of [points[0], points.find((c) => c.on === 'hook' && c.after), points.find((c) => c.on === 'notice' && !c.after)]) {
    assert.ok(crash);
    const slow = await run({ ...CRASH_SCENARIO, crash });
    judge(slow, `crash ${crash.after ? 'after' : 'before'} ${crash.on} ${crash.at}, the slow way`);
    assert.deepEqual(endState(slow), endState(await resumeCrash(CRASH_SCENARIO, recorded, crash)));
  }
});

test('a crash right after a notice reached its channel sends it again under the same id: at least once, never lost', async () => {
  // The result of a notify action is recorded after every channel answered; a controller killed in between cannot
  // know what arrived, and a notice lost would let sessions be cut unannounced. So it is sent again, with the same
  // notice id (in the webhook body and the log) for receivers that drop repeats, as Alertmanager's webhooks do.
  const r = await run({ ...CRASH_SCENARIO, crash: { on: 'notice', at: 1, after: true } });
  assert.equal(r.crashes, 1);
  assert.equal(r.status.phase, 'Completed', r.status.message);
  const ids = new Map<string, Set<string>>();
  const times = new Map<string, number>();
  for (const n of r.received) {
    const k = `${n.region} ${n.leadTime} ${n.channel}`;
    ids.set(k, (ids.get(k) ?? new Set()).add(n.id));
    times.set(k, (times.get(k) ?? 0) + 1);
  }
  assert.ok(ids.size > 0);
  for (const [notice, seen] of ids) assert.equal(seen.size, 1, `notice ${notice} went out under ${seen.size} ids`);
  // The notice the crash cut short went out twice; every other one once.
  assert.deepEqual([...times.values()].filter((n) => n > 1), [2]);
});

// ---------------------------------------------------------------------------------------------
// Hooks and notices that fail
// ---------------------------------------------------------------------------------------------

/** Fails the first `n` calls of `action` for each proxy; `tookEffect`: the call reaches the world first (a timeout after the fact). */
function flaky(action: HookRequest['action'], n: number, tookEffect: boolean, only?: string) {
  const seen = new Map<string, number>();
  return async (req: HookRequest, call: () => Promise<Outcome>): Promise<Outcome> => {
    if (req.action !== action || (only !== undefined && req.proxy.name !== only)) return call();
    const k = (seen.get(req.proxy.name) ?? 0) + 1;
    seen.set(req.proxy.name, k);
    if (k > n) return call();
    if (tookEffect) await call();
    return err({ attempts: 3, error: tookEffect ? `${action} hook: no answer within 30000 ms (after 3 tries)` : `${action} hook: HTTP 503 (after 3 tries)` });
  };
}

function chain(...wrappers: ((req: HookRequest, call: () => Promise<Outcome>) => Promise<Outcome>)[]) {
  return (req: HookRequest, call: () => Promise<Outcome>): Promise<Outcome> => wrappers.reduceRight<() => Promise<Outcome>>((next, w) => () => w(req, next), call)();
}

test('hooks that answer 503 or time out after taking effect, then succeed on a later round: every proxy upgraded once, back in rotation, no early cut', async () => {
  const f = makeFleet({ tokyo: 2, london: 2 });
  const r = await run({
    fleet: f,
    rollout: { version: '17.4.8', notice: { leadTimes: ['10m'], channels: [OPS] }, drain: { deadline: '20m' } },
    sessions: () => 500,
    world: { sessionHalfLifeMs: 50 * HOUR },
    hook: chain(flaky('out-of-rotation', 2, false), flaky('upgrade', 2, true), flaky('in-rotation', 2, false)),
  });
  assert.equal(r.status.phase, 'Completed', r.status.message);
  for (const p of r.world.proxies.values()) assert.deepEqual([p.name, p.version, p.restarts, p.inLoadBalancer], [p.name, '17.4.8', 1, true]);
  assert.deepEqual(new Set(r.status.proxies?.map((p) => p.step)), new Set(['Done']));
  assert.equal(assertNoEarlyCut(r, 20 * MIN, outAtOf(r)), 4);
  assert.equal(assertToldAhead(r, [{ text: '10m', ms: 10 * MIN }], ['ops']), 4);
});

test('an out-of-rotation hook that took effect but kept timing out does not leave the proxy out of the load balancer for good', async () => {
  // A timeout is no proof that nothing happened: a proxy whose out-of-rotation hook kept failing is put back before it fails.
  const f = makeFleet({ tokyo: 2 });
  const r = await run({ fleet: f, rollout: { version: '17.4.8', notice: { leadTimes: ['10m'] }, drain: { deadline: '20m' } }, hook: flaky('out-of-rotation', 99, true, 'tokyo-1') });
  assert.equal(r.status.phase, 'Failed', r.status.message);
  assert.equal(stepOf(r.status, 'tokyo-1'), 'Failed');
  assert.equal(heldOf(r.status).size, 0, 'the status says no proxy is held out');
  assert.equal(r.world.proxies.get('tokyo-1')?.inLoadBalancer, true, 'tokyo-1 was left out of the load balancer by a rollout that has ended');
});

test('an in-rotation hook that fails for a minute and a half, then would work, is retried until the proxy is back in the load balancer', async () => {
  // Putting a proxy back is never given up on: a rollout that ended would leave it out of the load balancer for good.
  const f = makeFleet({ tokyo: 2 });
  const r = await run({ fleet: f, rollout: { version: '17.4.8', notice: { leadTimes: ['10m'] }, drain: { deadline: '20m' } }, hook: flaky('in-rotation', 3, false, 'tokyo-1') });
  assert.equal(r.world.proxies.get('tokyo-1')?.version, '17.4.8');
  assert.equal(r.world.proxies.get('tokyo-1')?.inLoadBalancer, true, `tokyo-1 left out of the load balancer; rollout ${r.status.phase ?? ''}: ${r.status.message ?? ''}`);
});

test('the drain deadline counts from when the load balancer let the proxy go, not from when the rollout decided to take it out', async () => {
  // While the out-of-rotation hook is retried the load balancer still sends sessions: the deadline counts from its success.
  const f = makeFleet({ tokyo: 2 });
  const r = await run({
    fleet: f,
    rollout: { version: '17.4.8', notice: { leadTimes: ['10m'] }, drain: { deadline: '20m' } },
    sessions: () => 500,
    world: { sessionHalfLifeMs: 50 * HOUR },
    hook: flaky('out-of-rotation', 2, false),
  });
  assert.equal(r.status.phase, 'Completed', r.status.message);
  const lbOut = (name: string) => r.world.hooks.find((h) => h.tookEffect && h.req.action === 'out-of-rotation' && h.req.proxy.name === name)?.at;
  assert.equal(assertNoEarlyCut(r, 20 * MIN, lbOut), 2);
});

test('a notice channel that fails for 25 minutes holds the proxies back until it has had its full lead time; the channel that worked is not told twice', async () => {
  const f = makeFleet({ tokyo: 2 }, [{ days: ['Sat'], start: '02:00', duration: '4h' }]);
  const r = await run({
    fleet: f,
    rollout: { version: '17.4.8', notice: { leadTimes: ['24h', '1h'], channels: [OPS, CHAT] }, drain: { deadline: '20m' } },
    world: { channelFailures: { ops: 6 } },
  });
  assert.equal(r.status.phase, 'Completed', r.status.message);
  assert.equal(assertToldAhead(r, [{ text: '24h', ms: DAY }, { text: '1h', ms: HOUR }], ['ops', 'chat']), 2);
  const perChannel = new Map<string, number>();
  for (const n of r.received) perChannel.set(`${n.id} ${n.channel}`, (perChannel.get(`${n.id} ${n.channel}`) ?? 0) + 1);
  assert.deepEqual([...perChannel.values()], [1, 1, 1, 1], 'each notice reached each channel once');
  // The 24 h notice to ops was delivered 25.5 min late (backoff 30 s, 1, 2, 4, 8, 10 min): the window's first
  // 25.5 minutes are lost, not the users' lead time.
  const windowStart = Date.parse('2026-01-02T17:00:00Z');
  const first = Math.min(...takeOuts(r).map((t) => t.at));
  assert.ok(first >= windowStart, `first out at ${iso(first)}`);
});

test("renaming a lead time to the same duration ('1h' to '60m') mid-rollout keeps the lead time of a notice that went out late", async () => {
  // A notice's lead time comes from the notice (its window start minus its due time), not from the spec's spelling now.
  const f = makeFleet({ tokyo: 2 }, [{ days: ['Sat'], start: '02:00', duration: '4h' }]);
  let renamed = false;
  const r = await run({
    fleet: f,
    check: false,
    rollout: { version: '17.4.8', notice: { leadTimes: ['1h'], channels: [OPS] }, drain: { deadline: '20m' } },
    world: { channelFailures: { ops: 6 } },
    afterPass(h) {
      if (!renamed && h.status.notices?.length && h.status.notices.every((n) => n.givenAt)) {
        renamed = true;
        h.editSpec((s) => ({ ...s, notice: { ...s.notice, leadTimes: ['60m'] } }));
      }
    },
  });
  assert.ok(renamed);
  assert.equal(r.status.phase, 'Completed', r.status.message);
  assert.equal(assertToldAhead(r, [{ text: '1h', ms: HOUR }], ['ops']), 2);
});

// ---------------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------------

test('a proxy that stops being ready during verification starts counting again; one that never recovers is rolled back and halts the rollout', async () => {
  const f = makeFleet({ tokyo: 3 });
  const spec: ProxyRolloutSpec = { version: '17.4.8', notice: { leadTimes: ['10m'] }, drain: { deadline: '20m' }, verify: { consecutiveScrapes: 3, timeout: '15m' }, failurePolicy: 'rollback' };
  // A flap: ready for one scrape, then not ready for two, then ready again.
  let flapAt: number | undefined;
  let recoveredAt: number | undefined;
  const flap = await run({
    fleet: f,
    rollout: spec,
    afterPass(h) {
      const p = h.status.proxies?.find((x) => x.name === 'tokyo-1');
      if (flapAt === undefined && p?.step === 'Verifying' && (p.verifyPasses ?? 0) >= 1) {
        flapAt = h.clock.now();
        h.world.setHealthy('tokyo-1', false);
      } else if (flapAt !== undefined && recoveredAt === undefined && h.clock.now() >= flapAt + 2 * SCRAPE_MS) {
        recoveredAt = h.clock.now();
        h.world.setHealthy('tokyo-1', true);
      }
    },
  });
  assert.equal(flap.status.phase, 'Completed', flap.status.message);
  assert.ok(flapAt !== undefined && recoveredAt !== undefined);
  const done = Date.parse(flap.status.proxies?.find((p) => p.name === 'tokyo-1')?.doneAt ?? '');
  assert.ok(done >= recoveredAt + 2 * SCRAPE_MS, `tokyo-1 passed verification at ${iso(done)}, without three ready scrapes after it recovered at ${iso(recoveredAt)}`);
  assert.equal(flap.world.proxies.get('tokyo-1')?.restarts, 1);

  // Never ready again: rolled back to 17.4.2 within the rollout, back in rotation, and nothing else is taken out.
  let brokenAt: number | undefined;
  const broken = await run({
    fleet: f,
    rollout: spec,
    afterPass(h) {
      if (brokenAt === undefined && h.status.proxies?.some((x) => x.name === 'tokyo-1' && x.step === 'Verifying')) {
        brokenAt = h.clock.now();
        h.world.setHealthy('tokyo-1', false);
      }
      if (h.status.proxies?.some((x) => x.name === 'tokyo-1' && x.step === 'RollingBack' && x.rolledBackAt)) h.world.setHealthy('tokyo-1', true);
    },
  });
  assert.equal(broken.status.phase, 'Failed', broken.status.message);
  const t1 = broken.world.proxies.get('tokyo-1');
  assert.deepEqual([t1?.version, t1?.restarts, t1?.inLoadBalancer], ['17.4.2', 2, true]);
  assert.deepEqual(takeOuts(broken).map((t) => t.name), ['tokyo-1']);
  for (const name of ['tokyo-2', 'tokyo-3']) assert.deepEqual([broken.world.proxies.get(name)?.version, broken.world.proxies.get(name)?.restarts], ['17.4.2', 0]);
});

// ---------------------------------------------------------------------------------------------
// The spec (and the fleet) edited mid-rollout
// ---------------------------------------------------------------------------------------------

test('maxUnavailable lowered from 2 to 1 while two proxies are out: no new proxy goes out until both are back', async () => {
  const f = makeFleet({ tokyo: 4 });
  let editedAt: number | undefined;
  const r = await run({
    fleet: f,
    rollout: { version: '17.4.8', maxUnavailable: 2, notice: { leadTimes: ['10m'] }, drain: { deadline: '20m' } },
    afterPass(h) {
      if (editedAt === undefined && heldOf(h.status).size === 2) {
        editedAt = h.clock.now();
        h.editSpec((s) => ({ ...s, maxUnavailable: 1 }));
      }
    },
  });
  assert.equal(r.status.phase, 'Completed', r.status.message);
  assert.ok(editedAt !== undefined);
  let later = 0;
  for (const w of r.writes) {
    if (w.at <= editedAt) continue;
    const before = heldOf(w.before);
    const after = heldOf(w.after);
    const added = [...after].filter((n) => !before.has(n));
    if (added.length === 0) continue;
    later += added.length;
    assert.deepEqual([before.size, added.length], [0, 1], `at ${iso(w.at)}: ${added.join(', ')} taken out with ${before.size} already out`);
  }
  assert.equal(later, 2, 'the two proxies left went out one at a time');
});

test('the selector narrowed, or the target version changed, mid-rollout: nothing new is taken out, the proxy on its way finishes on the started target, abort puts everything back', async () => {
  const f = makeFleet({ tokyo: 2, london: 2 });
  const edits: [string, (s: ProxyRolloutSpec) => ProxyRolloutSpec][] = [
    ['tokyo removed from the selector', (s) => ({ ...s, selector: { regions: ['london'] } })],
    ['version changed', (s) => ({ ...s, version: '17.5.0' })],
  ];
  for (const [what, edit] of edits) {
    let editedAt: number | undefined;
    let abortedAt: number | undefined;
    const r = await run({
      fleet: f,
      check: false,
      rollout: { version: '17.4.8', notice: { leadTimes: ['10m'] }, drain: { deadline: '20m' } },
      afterPass(h) {
        if (editedAt === undefined && h.status.proxies?.some((p) => p.name === 'tokyo-1' && p.step === 'Draining')) {
          editedAt = h.clock.now();
          h.editSpec(edit);
        } else if (editedAt !== undefined && abortedAt === undefined && h.clock.now() > editedAt + 3 * DAY) {
          assert.equal(h.status.phase, 'Progressing', what);
          assert.equal(h.status.conditions?.find((c) => c.type === 'Ready')?.reason, 'PlanChanged', what);
          abortedAt = h.clock.now();
          h.editSpec((s) => ({ ...s, aborted: true }));
        }
      },
    });
    assert.equal(r.status.phase, 'Aborted', `${what}: ${r.status.message ?? ''}`);
    assert.deepEqual(takeOuts(r).map((t) => t.name), ['tokyo-1'], `${what}: only the proxy already out moved`);
    assert.deepEqual(
      [...r.world.proxies.values()].map((p) => [p.name, p.version, p.restarts, p.inLoadBalancer]),
      [['tokyo-1', '17.4.8', 1, true], ['tokyo-2', '17.4.2', 0, true], ['london-1', '17.4.2', 0, true], ['london-2', '17.4.2', 0, true]],
      what,
    );
    assert.equal(stepOf(r.status, 'tokyo-1'), 'Done', what);
  }
});

test('a region removed from the fleet mid-rollout does not stall the regions after it forever', async () => {
  // A running rollout keeps the waves it started with; the proxies of a region that left the fleet are skipped.
  const f = makeFleet({ tokyo: 2, london: 2, chicago: 2 });
  let removed = false;
  const r = await run({
    fleet: f,
    check: false,
    rollout: { version: '17.4.8', notice: { leadTimes: ['10m'] }, drain: { deadline: '20m' } },
    maxDays: 20,
    afterPass(h) {
      if (!removed && h.status.startedAt) {
        removed = true;
        h.editFleet((s) => ({ regions: s.regions.filter((x) => x.name !== 'london'), proxies: s.proxies.filter((p) => p.region !== 'london') }));
      }
    },
  });
  assert.ok(removed);
  assert.deepEqual([r.world.proxies.get('tokyo-1')?.version, r.world.proxies.get('tokyo-2')?.version], ['17.4.8', '17.4.8']);
  assert.ok(
    r.status.phase !== 'Progressing' || ['chicago-1', 'chicago-2'].every((n) => r.world.proxies.get(n)?.version === '17.4.8'),
    `after 20 days: ${r.status.phase ?? ''} "${r.status.message ?? ''}", chicago still on ${r.world.proxies.get('chicago-1')?.version ?? '?'}`,
  );
});

// ---------------------------------------------------------------------------------------------
// Operators' commands at every phase
// ---------------------------------------------------------------------------------------------

type Phase = 'Noticed' | 'OutOfRotation' | 'Draining' | 'Upgrading' | 'Verifying' | 'Returning';
const PHASES: Phase[] = ['Noticed', 'OutOfRotation', 'Draining', 'Upgrading', 'Verifying', 'Returning'];

function atPhase(st: ProxyRolloutStatus, phase: Phase): boolean {
  return (st.proxies ?? []).some((p) => (phase === 'Returning' ? p.returning !== undefined : p.step === phase && !p.returning));
}

/** Every hook action fails once per proxy, so that every step is seen between two passes. */
const commandScenario = (): RunOptions => ({
  fleet: makeFleet({ tokyo: 2, london: 2 }),
  rollout: { version: '17.4.8', notice: { leadTimes: ['1h', '10m'], channels: [OPS] }, drain: { deadline: '20m' }, verify: { consecutiveScrapes: 2 } },
  sessions: () => 30,
  hook: chain(flaky('out-of-rotation', 1, false), flaky('upgrade', 1, false), flaky('in-rotation', 1, false)),
});

test('pause at every phase: the proxy already out may finish, nothing else is taken out and no notice goes out until resume; then the rollout completes', async () => {
  for (const phase of PHASES) {
    let pausedAt: number | undefined;
    let resumedAt: number | undefined;
    const r = await run({
      ...commandScenario(),
      afterPass(h) {
        if (pausedAt === undefined && atPhase(h.status, phase)) {
          pausedAt = h.clock.now();
          h.editSpec((s) => ({ ...s, paused: true }));
        } else if (pausedAt !== undefined && resumedAt === undefined && h.clock.now() >= pausedAt + 12 * HOUR) {
          assert.equal(h.status.phase, 'Paused', phase);
          resumedAt = h.clock.now();
          h.editSpec((s) => {
            const { paused: _, ...rest } = s;
            return rest;
          });
        }
      },
    });
    const [from, to] = [pausedAt, resumedAt];
    assert.ok(from !== undefined && to !== undefined, `${phase}: paused and resumed`);
    assert.equal(r.status.phase, 'Completed', `${phase}: ${r.status.message ?? ''}`);
    const heldAtPause = heldOf(r.writes.filter((w) => w.at <= from).at(-1)?.after);
    const during = takeOuts(r).filter((t) => t.at > from && t.at < to && !heldAtPause.has(t.name));
    assert.deepEqual(during, [], `${phase}: taken out while paused`);
    assert.deepEqual(r.received.filter((n) => n.at > from && n.at < to).map((n) => n.id), [], `${phase}: notices sent while paused`);
    for (const p of r.world.proxies.values()) assert.deepEqual([p.name, p.version, p.restarts, p.inLoadBalancer], [p.name, '17.4.8', 1, true], phase);
    assertToldAhead(r, [{ text: '1h', ms: HOUR }, { text: '10m', ms: 10 * MIN }], ['ops']);
  }
});

test('abort at every phase: every proxy back in the load balancer on the version it runs, none restarted twice, the rest untouched', async () => {
  for (const phase of PHASES) {
    let abortedAt: number | undefined;
    const r = await run({
      ...commandScenario(),
      afterPass(h) {
        if (abortedAt === undefined && atPhase(h.status, phase)) {
          abortedAt = h.clock.now();
          h.editSpec((s) => ({ ...s, aborted: true }));
        }
      },
    });
    const at = abortedAt;
    assert.ok(at !== undefined, phase);
    assert.equal(r.status.phase, 'Aborted', `${phase}: ${r.status.message ?? ''}`);
    assert.equal(heldOf(r.status).size, 0, phase);
    for (const p of r.world.proxies.values()) {
      assert.ok(p.inLoadBalancer, `${phase}: ${p.name} back in the load balancer`);
      assert.ok(p.restarts <= 1, `${phase}: ${p.name} restarted ${p.restarts} times`);
      const step = stepOf(r.status, p.name);
      assert.ok(step === 'Done' || step === 'Skipped', `${phase}: ${p.name} ended ${step ?? '?'}`);
      if (step === 'Done') assert.equal(p.version, '17.4.8', phase);
    }
    assert.ok(takeOuts(r).every((t) => t.at <= at), `${phase}: nothing taken out after the abort`);
    for (const name of ['london-1', 'london-2']) assert.deepEqual([r.world.proxies.get(name)?.version, r.world.proxies.get(name)?.restarts], ['17.4.2', 0], phase);
  }
});

// ---------------------------------------------------------------------------------------------
// Other runs holding the same proxies
// ---------------------------------------------------------------------------------------------

test('a second rollout of the same proxies waits for the first; together they never hold more than maxUnavailable of a region, nor its last ready proxy', async () => {
  const f = makeFleet({ tokyo: 2, london: 2 });
  const clock = new ManualClock(THURSDAY);
  const world = new RolloutWorld(f, clock, () => 40);
  const store = new CrashingStore();
  store.put(fleetResource(f));
  store.put(rolloutResource({ version: '17.4.8', notice: { leadTimes: ['10m'] }, drain: { deadline: '20m' } }, 'first'));
  store.put(rolloutResource({ version: '17.5.0', notice: { leadTimes: ['10m'] }, drain: { deadline: '20m' } }, 'second'));
  const statuses = new Map<string, ProxyRolloutStatus>();
  // As main.ts does: every run's stored status says which proxies it holds.
  const outOfRotation = (): Set<string> => new Set([...statuses.values()].flatMap((st) => [...heldOf(st)]));
  const reconciler = createRolloutReconciler({ store, clock, log: pino({ level: 'silent' }), snapshotOf: () => world.snapshot(), sendNotice: world.sendNotice, runHook: world.runHook, outOfRotation });
  let worst = 0;
  let lastReadyOut = 0;
  const signal = new AbortController().signal;
  for (let i = 0; i < 20_000; i++) {
    let wake = Infinity;
    for (const name of ['first', 'second']) {
      const res = await reconciler.reconcile({ kind: 'ProxyRollout', namespace: 'default', name }, signal);
      statuses.set(name, (await store.get('ProxyRollout', 'default', name))?.status ?? {});
      wake = Math.min(wake, res.requeueAfterMs ?? Infinity);
      const held = outOfRotation();
      for (const region of ['tokyo', 'london']) {
        const members = f.proxies.filter((p) => p.region === region);
        worst = Math.max(worst, members.filter((p) => held.has(p.name)).length);
        if (members.every((p) => held.has(p.name) || !world.isReady(p.name))) lastReadyOut++;
      }
    }
    const phases = [...statuses.values()].map((s) => s.phase);
    if (phases.every((p) => p === 'Completed')) break;
    if (wake === 0) continue;
    const held = outOfRotation();
    const stepMs = Math.max(1, held.size ? Math.min(wake, SCRAPE_MS) : Math.min(wake, HOUR));
    clock.advance(stepMs);
    world.tick(stepMs, held);
  }
  const first = statuses.get('first');
  const second = statuses.get('second');
  assert.equal(first?.phase, 'Completed', first?.message);
  assert.equal(second?.phase, 'Completed', second?.message);
  assert.ok(Date.parse(second?.startedAt ?? '') >= Date.parse(first?.finishedAt ?? ''), 'the second started after the first finished');
  assert.equal(worst, 1, 'never more than one proxy of a region out');
  assert.equal(lastReadyOut, 0, 'never a region without a ready proxy in rotation');
  for (const p of world.proxies.values()) assert.deepEqual([p.name, p.version, p.restarts, p.inLoadBalancer], [p.name, '17.5.0', 2, true]);
});

test('a proxy another run (a canary) holds out of rotation is not taken over by the rollout, even when maxUnavailable leaves room', async () => {
  // A proxy another run holds counts against maxUnavailable and is never a candidate itself.
  const f = makeFleet({ london: 3 });
  const HOLD_ENDS = THURSDAY + 6 * HOUR;
  const outOfRotation = (now: number): readonly string[] => (now < HOLD_ENDS ? ['london-1'] : []);
  const r = await run({ fleet: f, rollout: { version: '17.4.8', maxUnavailable: 2, notice: { leadTimes: ['10m'] }, drain: { deadline: '20m' } }, outOfRotation, check: false });
  assert.equal(r.status.phase, 'Completed', r.status.message);
  assert.ok((maxHeldPerRegion(r, f, outOfRotation).get('london') ?? 0) <= 2, 'maxUnavailable, counting the canary');
  const touched = r.world.hooks.filter((h) => h.req.proxy.name === 'london-1' && h.at < HOLD_ENDS).map((h) => `${h.req.action} at ${iso(h.at)}`);
  assert.deepEqual(touched, [], 'the rollout acted on london-1 while the canary held it');
});

test('a controller restarted before its first observation does not take out the last ready proxy of a region', async () => {
  // After a restart nothing is taken out until the fleet is observed again: the last-ready rule needs readiness.
  const f = makeFleet({ london: 2 });
  const spec: ProxyRolloutSpec = { version: '17.4.8', maxUnavailable: 2, notice: { leadTimes: ['10m'] }, drain: { deadline: '20m' } };
  const control = await run({ fleet: f, rollout: spec });
  assert.equal(control.status.phase, 'Completed');
  assert.equal(maxHeldPerRegion(control, f).get('london'), 1);
  let restarted = false;
  const r = await run({
    fleet: f,
    rollout: spec,
    check: false,
    afterPass(h) {
      if (!restarted && h.status.proxies?.every((p) => p.step === 'Noticed')) {
        restarted = true;
        h.restart(true);
      }
    },
  });
  assert.ok(restarted);
  assert.equal(r.status.phase, 'Completed', r.status.message);
  assert.equal(maxHeldPerRegion(r, f).get('london'), 1, 'both London proxies were out of rotation at once');
});

test('a controller that was down past a drain deadline and restarts before its first observation reports the sessions its upgrade cut', async () => {
  // Nor is a drain ended blind: the sessions cut are counted from an observation.
  const f = makeFleet({ tokyo: 2 });
  let restarted = false;
  const r = await run({
    fleet: f,
    rollout: { version: '17.4.8', notice: { leadTimes: ['10m'] }, drain: { deadline: '20m' } },
    sessions: () => 400,
    world: { sessionHalfLifeMs: 100 * HOUR },
    afterPass(h) {
      if (!restarted && h.status.proxies?.some((p) => p.name === 'tokyo-1' && p.step === 'Draining')) {
        restarted = true;
        // Down for half an hour: the new process starts after the deadline, before the observer has scraped.
        h.clock.advance(30 * MIN);
        h.restart(true);
      }
    },
  });
  assert.ok(restarted);
  assert.equal(r.status.phase, 'Completed', r.status.message);
  const cut = r.world.hooks.find((h) => h.tookEffect && h.req.action === 'upgrade' && h.req.proxy.name === 'tokyo-1');
  assert.ok(cut && cut.sessions > 0, 'the upgrade cut sessions');
  assert.equal(r.status.proxies?.find((p) => p.name === 'tokyo-1')?.sessionsCut, cut.sessions, 'sessions cut by the upgrade, as recorded in status');
});

// ---------------------------------------------------------------------------------------------
// Maintenance windows in the region's time zone
// ---------------------------------------------------------------------------------------------

/** Weekday and wall-clock time at an instant in a zone, from Intl alone. */
function wallClock(atMs: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'short', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short' }).format(atMs);
}

test('windows across daylight-saving changes and midnight: every proxy goes out only inside the occurrence the region’s zone gives, after every notice', async () => {
  const cases: { name: string; region: string; startAt: number; window: MaintenanceWindow; opens: string; closes: string }[] = [
    // London springs forward 01:00 GMT -> 02:00 BST on Sunday 2026-03-29: 01:30 does not exist and becomes 02:30 BST.
    { name: 'Europe/London, 01:30 on the spring-forward Sunday', region: 'london', startAt: Date.UTC(2026, 2, 26), window: { days: ['Sun'], start: '01:30', duration: '2h' }, opens: '2026-03-29T01:30:00.000Z', closes: '2026-03-29T03:30:00.000Z' },
    // The same window a week later is on summer time: an hour earlier in UTC.
    { name: 'Europe/London, the Sunday after', region: 'london', startAt: Date.UTC(2026, 3, 2), window: { days: ['Sun'], start: '01:30', duration: '2h' }, opens: '2026-04-05T00:30:00.000Z', closes: '2026-04-05T02:30:00.000Z' },
    // Sydney springs forward 02:00 AEST -> 03:00 AEDT on Sunday 2026-10-04: 02:30 becomes 03:30 AEDT.
    { name: 'Australia/Sydney, 02:30 on the spring-forward Sunday', region: 'sydney', startAt: Date.UTC(2026, 9, 1), window: { days: ['Sun'], start: '02:30', duration: '2h' }, opens: '2026-10-03T16:30:00.000Z', closes: '2026-10-03T18:30:00.000Z' },
    // Sao Paulo (no daylight saving since 2019): Friday 23:00 for 3 h crosses midnight into Saturday.
    { name: 'America/Sao_Paulo, across midnight', region: 'sao-paulo', startAt: Date.UTC(2026, 0, 6), window: { days: ['Fri'], start: '23:00', duration: '3h' }, opens: '2026-01-10T02:00:00.000Z', closes: '2026-01-10T05:00:00.000Z' },
    // Sao Paulo in 2018 sprang forward at midnight: Sunday 2018-11-04 had no 00:00, the window opens at 01:00 -02.
    { name: 'America/Sao_Paulo, a Sunday without midnight (2018)', region: 'sao-paulo', startAt: Date.UTC(2018, 10, 1), window: { days: ['Sun'], start: '00:00', duration: '1h' }, opens: '2018-11-04T03:00:00.000Z', closes: '2018-11-04T04:00:00.000Z' },
  ];
  for (const c of cases) {
    const f = makeFleet({ [c.region]: 2 }, [c.window]);
    const r = await run({
      fleet: f,
      startAt: c.startAt,
      check: false,
      sessions: () => 5,
      rollout: { version: '17.4.8', notice: { leadTimes: ['24h', '1h'], channels: [OPS] }, drain: { deadline: '15m' }, verify: { consecutiveScrapes: 2 } },
    });
    assert.equal(r.status.phase, 'Completed', `${c.name}: ${r.status.message ?? ''}`);
    const outs = takeOuts(r);
    assert.equal(outs.length, 2, c.name);
    for (const o of outs)
      assert.ok(o.at >= Date.parse(c.opens) && o.at < Date.parse(c.closes), `${c.name}: ${o.name} out at ${iso(o.at)} (${wallClock(o.at, f.regions[0]?.timeZone ?? 'UTC')}), outside ${c.opens} to ${c.closes}`);
    assert.equal(assertToldAhead(r, [{ text: '24h', ms: DAY }, { text: '1h', ms: HOUR }], ['ops']), 2, c.name);
  }
});

test('a weekly window on a day the zone skipped (Pacific/Apia had no Friday 2011-12-30) does not open on the Saturday instead', async () => {
  // A local date the zone skipped has no window occurrence; the window does not slide onto the next weekday.
  const f = makeFleet({ apia: 2 }, [{ days: ['Fri'], start: '02:00', duration: '2h' }]);
  const r = await run({ fleet: f, startAt: Date.UTC(2011, 11, 26), check: false, sessions: () => 5, rollout: { version: '17.4.8', notice: { leadTimes: ['1h'] }, drain: { deadline: '15m' }, verify: { consecutiveScrapes: 2 } } });
  assert.equal(r.status.phase, 'Completed', r.status.message);
  const outs = takeOuts(r);
  assert.equal(outs.length, 2);
  for (const o of outs) assert.match(wallClock(o.at, 'Pacific/Apia'), /^Fri/, `${o.name} out at ${iso(o.at)}: ${wallClock(o.at, 'Pacific/Apia')}`);
});

test('a window starting at an hour that happens twice (clocks going back) opens at its first occurrence, east of UTC as it does in Chicago', () => {
  // A repeated local hour (clocks going back) is its first occurrence, east of UTC as west.
  const cases: [string, string, number, string][] = [
    ['America/Chicago', '01:30', Date.UTC(2026, 9, 29), '2026-11-01T06:30:00.000Z'],
    ['Europe/London', '01:30', Date.UTC(2026, 9, 22), '2026-10-25T00:30:00.000Z'],
    ['Australia/Sydney', '02:30', Date.UTC(2026, 3, 1), '2026-04-04T15:30:00.000Z'],
  ];
  for (const [zone, start, from, expected] of cases) {
    const o = nextWindow([{ days: ['Sun'], start, duration: '30m' }], zone, from);
    assert.equal(o && iso(o.startAt), expected, `${zone} Sunday ${start}: opens ${o ? wallClock(o.startAt, zone) : 'never'}, the first ${start} is ${wallClock(Date.parse(expected), zone)}`);
  }
});

test('a drain under way finishes after its window has closed; the next proxy waits for the next occurrence, with fresh notices', async () => {
  const f = makeFleet({ tokyo: 2 }, [{ days: ['Sat'], start: '02:00', duration: '30m' }]);
  const r = await run({
    fleet: f,
    sessions: () => 1000,
    world: { sessionHalfLifeMs: 100 * HOUR },
    rollout: { version: '17.4.8', notice: { leadTimes: ['1h'], channels: [OPS] }, drain: { deadline: '2h' } },
  });
  assert.equal(r.status.phase, 'Completed', r.status.message);
  assert.deepEqual(takeOuts(r).map((t) => [t.name, iso(t.at)]), [['tokyo-1', '2026-01-02T17:00:00.000Z'], ['tokyo-2', '2026-01-09T17:00:00.000Z']]);
  const upgraded = r.world.hooks.find((h) => h.tookEffect && h.req.action === 'upgrade' && h.req.proxy.name === 'tokyo-1');
  assert.equal(upgraded && iso(upgraded.at), '2026-01-02T19:00:00.000Z', 'tokyo-1 drained to its deadline, 90 min after the window closed');
  assert.equal(assertNoEarlyCut(r, 2 * HOUR, outAtOf(r)), 2);
  assert.equal(assertToldAhead(r, [{ text: '1h', ms: HOUR }], ['ops']), 2);
  assert.equal(new Set(r.received.map((n) => n.id)).size, 2, 'one notice per window');
});

test('clock jumps: forward past the window, forward into it before the last notice, back during a drain', async () => {
  const f = makeFleet({ tokyo: 2 }, [{ days: ['Sat'], start: '02:00', duration: '4h' }]);
  const spec: ProxyRolloutSpec = { version: '17.4.8', notice: { leadTimes: ['24h', '1h'], channels: [OPS] }, drain: { deadline: '30m' } };
  const leads = [{ text: '24h', ms: DAY }, { text: '1h', ms: HOUR }];
  const WINDOW = Date.parse('2026-01-02T17:00:00Z');

  // Past the whole window while every proxy is Noticed: the next Saturday, told afresh.
  let jumped = false;
  const past = await run({
    fleet: f,
    rollout: spec,
    afterPass(h) {
      if (!jumped && h.status.proxies?.every((p) => p.step === 'Noticed')) {
        jumped = true;
        h.clock.set(Date.parse('2026-01-05T00:00:00Z'));
      }
    },
  });
  assert.ok(jumped);
  assert.equal(past.status.phase, 'Completed', past.status.message);
  assert.ok(takeOuts(past).every((t) => t.at >= WINDOW + 7 * DAY && t.at < WINDOW + 7 * DAY + 4 * HOUR));
  assert.equal(assertToldAhead(past, leads, ['ops']), 2);

  // Into the window before the 1 h notice went out: it goes out late and the proxies wait its full hour.
  let into = false;
  const inside = await run({
    fleet: f,
    rollout: spec,
    afterPass(h) {
      if (!into && h.status.notices?.some((n) => n.leadTime === '24h' && n.givenAt)) {
        into = true;
        h.clock.set(WINDOW + 30 * MIN);
      }
    },
  });
  assert.ok(into);
  assert.equal(inside.status.phase, 'Completed', inside.status.message);
  assert.equal(Math.min(...takeOuts(inside).map((t) => t.at)), WINDOW + 90 * MIN);
  assert.equal(assertToldAhead(inside, leads, ['ops']), 2);

  // Back two hours while tokyo-1 drains: no session is cut before the deadline on the controller's clock.
  let back = false;
  const behind = await run({
    fleet: f,
    rollout: spec,
    sessions: () => 1000,
    world: { sessionHalfLifeMs: 100 * HOUR },
    afterPass(h) {
      if (!back && h.status.proxies?.some((p) => p.step === 'Draining')) {
        back = true;
        h.clock.set(h.clock.now() - 2 * HOUR);
      }
    },
  });
  assert.ok(back);
  assert.equal(behind.status.phase, 'Completed', behind.status.message);
  assert.equal(assertNoEarlyCut(behind, 30 * MIN, outAtOf(behind)), 2);
  assert.ok(takeOuts(behind).every((t) => t.at >= WINDOW && t.at < WINDOW + 4 * HOUR));
});

// ---------------------------------------------------------------------------------------------
// Against the fleet simulator, through the real adapters
// ---------------------------------------------------------------------------------------------

interface SimRun {
  readonly status: ProxyRolloutStatus;
  readonly views: readonly ProxyView[];
  readonly crashes: number;
  readonly hookCalls: number;
  /** Notices the receiver accepted, by id. */
  readonly delivered: ReadonlyMap<string, number>;
  /** Per proxy: startedAt of the restart the first accepted upgrade made, the sim time and the sessions it cut. */
  readonly restarts: ReadonlyMap<string, { readonly startedAt: string; readonly at: number; readonly sessionsCut: number }>;
  /** Requests the hook front and the notice receiver got, by `action proxy` and in all. */
  readonly hookRequests: ReadonlyMap<string, number>;
  readonly noticeRequests: number;
}

/**
 * The reconciler with the real webhook hook runner and notice sender over HTTP, and the real observer scraping the
 * simulator's diagnostic addresses, on the simulator's clock (stepped by hand). In front of the simulator's upgrade
 * hook: london-2's first out-of-rotation call gets a 503, london-1's first upgrade call is made but answered only
 * after the client timed out. The notice receiver answers 503 twice first.
 */
async function simRun(t: TestContext, crashAfterHook?: number): Promise<SimRun> {
  const closers: (() => Promise<unknown> | void)[] = [];
  t.after(async () => {
    for (const c of closers.reverse()) await c();
  });
  const sim = await startFleetSim({ proxies: [{ name: 'london-1', region: 'london', version: '17.4.2' }, { name: 'london-2', region: 'london', version: '17.4.2' }], tickMs: 0, seed: 7, startAt: THURSDAY, sessionsPerProxy: 20 });
  closers.push(() => sim.close());

  const restarts = new Map<string, { startedAt: string; at: number; sessionsCut: number }>();
  const firsts = new Set<string>();
  const hookRequests = new Map<string, number>();
  const front = createServer((req, res) => {
    void readBody(req, 1 << 16).then(async (text) => {
      const body = text.ok ? text.value : '';
      const hook = JSON.parse(body) as { action: string; proxy: string };
      hookRequests.set(`${hook.action} ${hook.proxy}`, (hookRequests.get(`${hook.action} ${hook.proxy}`) ?? 0) + 1);
      const first = !firsts.has(`${hook.action} ${hook.proxy}`);
      firsts.add(`${hook.action} ${hook.proxy}`);
      if (first && hook.action === 'out-of-rotation' && hook.proxy === 'london-2') return void res.writeHead(503).end('busy');
      const at = sim.clock.now();
      const answer = await fetch(`${sim.controlUrl}/hooks/upgrade`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const reply = await answer.text();
      if (answer.status === 200 && hook.action === 'upgrade' && !restarts.has(hook.proxy)) {
        const v = JSON.parse(reply) as ProxyView;
        restarts.set(hook.proxy, { startedAt: v.startedAt, at, sessionsCut: v.sessionsCut });
      }
      // The automation did it, but the answer comes too late: the client has given up by then.
      if (first && hook.action === 'upgrade' && hook.proxy === 'london-1') return;
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(reply);
    });
  });
  const frontPort = await listen(front, '127.0.0.1', 0);
  closers.push(() => closeServer(front));

  const delivered = new Map<string, number>();
  let noticeRequests = 0;
  const receiver = createServer((req, res) => {
    void readBody(req, 1 << 16).then((text) => {
      if (++noticeRequests <= 2) return void res.writeHead(503).end();
      const id = (JSON.parse(text.ok ? text.value : '{}') as { id?: string }).id ?? '';
      delivered.set(id, (delivered.get(id) ?? 0) + 1);
      res.writeHead(204).end();
    });
  });
  const receiverPort = await listen(receiver, '127.0.0.1', 0);
  closers.push(() => closeServer(receiver));

  const spec: ProxyFleetSpec = {
    regions: [{ ...(REGIONS['london'] ?? { name: 'london', latitude: 0, longitude: 0, timeZone: 'Europe/London' }), maintenanceWindows: ALWAYS }],
    proxies: sim.proxies.map((p) => ({
      name: p.name,
      region: p.region,
      publicUrl: `https://${p.name}.example.com`,
      diagnosticUrl: p.diagnosticUrl,
      version: '17.4.2',
      upgrade: { method: 'webhook' as const, url: `http://127.0.0.1:${frontPort}/hooks/upgrade`, timeout: '250ms' },
    })),
  };
  const store = new CrashingStore();
  store.put(fleetResource(spec));
  store.put(rolloutResource({ version: '17.4.8', notice: { leadTimes: ['10m'], channels: [{ name: 'audit', type: 'webhook', url: `http://127.0.0.1:${receiverPort}/notices` }] }, drain: { deadline: '10m' }, verify: { consecutiveScrapes: 2, timeout: '10m' } }));
  store.onWrite = (before, after) => {
    // Never both London proxies out (the last ready one stays), never more than maxUnavailable.
    assert.ok(heldOf(after).size <= 1, `${[...heldOf(after)].join(', ')} out at once`);
    void before;
  };

  const log = pino({ level: 'silent' });
  const backoff = { baseMs: 5, maxMs: 10 };
  const hookRunner = createHookRunner({ log, clock: sim.clock, runCommand, readSecret, attempts: 3, backoff });
  let hookCalls = 0;
  const runHook: RunHook = async (req, signal) => {
    const r = await hookRunner(req, signal);
    if (++hookCalls === crashAfterHook) throw new Crash(`crash after hook call ${hookCalls}`);
    return r;
  };
  const sendNotice = createNoticeSender({ log, clock: sim.clock, runCommand, readSecret, timeoutMs: 2_000, attempts: 2, backoff });
  const client = createDiagnosticClient({ timeoutMs: 2_000, maxBodyBytes: 1 << 20, log });
  closers.push(() => client.close());
  const observer = createObserver({ scrape: (url, signal) => client.scrape(url, signal), clock: sim.clock, concurrency: 4, timeoutMs: 2_000, log, jitterMs: 0 });
  let snapshot: FleetSnapshot = EMPTY_SNAPSHOT;
  const controller = new CrashRestarts(() => createRolloutReconciler({ store, clock: sim.clock, log, snapshotOf: () => snapshot, sendNotice, runHook }));
  const signal = new AbortController().signal;
  let status: ProxyRolloutStatus = {};
  for (let pass = 0; pass < 2_000; pass++) {
    snapshot = await observer.observe(spec, snapshot, { fleet: { name: 'demo', namespace: 'default', generation: 1 } });
    const res = await controller.pass(KEY, signal);
    if (!res) continue;
    status = (await store.get('ProxyRollout', 'default', 'upgrade'))?.status ?? {};
    if (TERMINAL.has(status.phase ?? '')) break;
    if (res.requeueAfterMs === 0) continue;
    sim.advance(Math.max(1, heldOf(status).size ? Math.min(res.requeueAfterMs ?? SCRAPE_MS, SCRAPE_MS) : Math.min(res.requeueAfterMs ?? HOUR, HOUR)));
  }
  const views = (await (await fetch(`${sim.controlUrl}/proxies`)).json()) as ProxyView[];
  return { status, views, crashes: controller.crashes, hookCalls, delivered, restarts, hookRequests, noticeRequests };
}

test('simulator-backed: through the real webhook hook runner, notice sender and observer, a hook that times out after acting, a 503 and a crash after any hook call still end with each proxy restarted once', async (t) => {
  const clean = await simRun(t);
  assert.equal(clean.status.phase, 'Completed', clean.status.message);
  // The faults happened: the timed-out upgrade and the 503 were tried again, the notice after two 503s.
  assert.ok((clean.hookRequests.get('upgrade london-1') ?? 0) >= 2);
  assert.ok((clean.hookRequests.get('out-of-rotation london-2') ?? 0) >= 2);
  assert.ok(clean.noticeRequests >= 3);
  const points = [undefined, ...Array.from({ length: clean.hookCalls }, (_, i) => i + 1)];
  for (const crash of points) {
    const r = crash === undefined ? clean : await simRun(t, crash);
    const what = crash === undefined ? 'no crash' : `crash after hook call ${crash}`;
    assert.equal(r.crashes, crash === undefined ? 0 : 1, what);
    assert.equal(r.status.phase, 'Completed', `${what}: ${r.status.message ?? ''}`);
    assert.deepEqual(r.views.map((v) => [v.name, v.version, v.inRotation, v.state]), [['london-1', '17.4.8', true, 'running'], ['london-2', '17.4.8', true, 'running']], what);
    for (const v of r.views) {
      const restart = r.restarts.get(v.name);
      assert.equal(v.startedAt, restart?.startedAt, `${what}: ${v.name} restarted again after its upgrade`);
      const out = Date.parse(r.status.proxies?.find((p) => p.name === v.name)?.outAt ?? '');
      if ((restart?.sessionsCut ?? 0) > 0) assert.ok((restart?.at ?? 0) >= out + 10 * MIN, `${what}: ${v.name} cut ${restart?.sessionsCut ?? 0} sessions before the drain deadline`);
    }
    assert.deepEqual([...r.delivered.values()], [1], `${what}: the one notice was delivered once, after two 503s`);
  }
});
