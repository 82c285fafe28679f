import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { createCanaryReconciler } from '../../src/canary/canary-reconciler.js';
import type { ProxyCanary, ProxyCanarySpec, ProxyCanaryStatus } from '../../src/model/canary.js';
import type { ProxyFleetSpec, Weekday } from '../../src/model/fleet.js';
import { API_VERSION } from '../../src/model/resource.js';
import { createRolloutEngine } from '../../src/rollout/rollout-engine.js';
import { fleet as fleetResource } from '../helpers/fleet-fixture.js';
import { ManualClock } from '../helpers/manual-clock.js';
import type { MemoryStore } from '../helpers/memory-store.js';
import { checkWrite, Crash, CrashingStore } from '../rollout/helpers/rollout-harness.js';
import { deploySpec, revertSpec } from '../../src/canary/core/canary-runs.js';
import { Prng } from '../../src/sim/prng.js';
import { RolloutWorld, type WorldOptions } from '../rollout/helpers/rollout-world.js';

const HOOK = { method: 'webhook' as const, url: 'https://hooks.example.com/upgrade' };
const EVERY_DAY: Weekday[] = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const ALWAYS = [{ days: EVERY_DAY, start: '00:00', duration: '24h' }];
const BUILD = '17.4.9-debug.1';

function fleet(): ProxyFleetSpec {
  const regions = [
    { name: 'tokyo', latitude: 35.68, longitude: 139.69, timeZone: 'Asia/Tokyo' },
    { name: 'london', latitude: 51.51, longitude: -0.13, timeZone: 'Europe/London', default: true },
  ];
  const proxies = regions.flatMap((r) => [1, 2, 3].map((i) => ({ name: `${r.name}-${i}`, region: r.name, publicUrl: `https://${r.name}-${i}.example.com`, diagnosticUrl: `http://127.0.0.1:${i}`, version: '17.4.2', upgrade: HOOK })));
  return { regions, proxies };
}

function canary(spec: Partial<ProxyCanarySpec> = {}): ProxyCanary {
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

interface Run {
  readonly status: ProxyCanaryStatus;
  readonly world: RolloutWorld;
  readonly store: MemoryStore;
  readonly captured: string[];
}

/** Drives one canary with the real reconciler and rollout engine, time passing in scrape-sized steps. */
async function runCanary(
  c: ProxyCanary,
  world: WorldOptions,
  crash?: { at: number; afterWrite: boolean },
  spec: ProxyFleetSpec = fleet(),
  check?: (w: RolloutWorld, now: number, before: ProxyCanaryStatus, after: ProxyCanaryStatus) => void,
): Promise<Run & { crashes: number; writes: number }> {
  const clock = new ManualClock(Date.UTC(2026, 0, 5));
  const w = new RolloutWorld(spec, clock, () => 20, { sessionHalfLifeMs: 60_000, ...world });
  const store = new CrashingStore();
  if (crash) {
    store.crashAt = crash.at;
    store.crashAfterWrite = crash.afterWrite;
  }
  store.put(fleetResource(spec));
  store.put(c);
  if (check) store.onAnyWrite = (kind, before, after) => kind === 'ProxyCanary' && check(w, clock.now(), before as ProxyCanaryStatus, after as ProxyCanaryStatus);
  const captured: string[] = [];
  let crashes = 0;
  // A fresh process after a crash: nothing in memory survives, the analysis interval starts again.
  const newReconciler = () => createCanaryReconciler({
    store,
    clock,
    log: pino({ level: 'silent' }),
    snapshotOf: () => w.snapshot(),
    engine: createRolloutEngine({ clock, sendNotice: w.sendNotice, runHook: w.runHook }),
    captureDiagnostics: async (_canary, proxy) => {
      captured.push(proxy.name);
      return { files: [`/state/diagnostics/${proxy.name}-goroutine.txt`] };
    },
  });
  let reconciler = newReconciler();
  const key = { kind: 'ProxyCanary', namespace: 'default', name: 'debug' };
  for (let pass = 0; pass < 20_000; pass++) {
    let requeueAfterMs: number | undefined;
    try {
      requeueAfterMs = (await reconciler.reconcile(key, new AbortController().signal)).requeueAfterMs;
    } catch (e) {
      if (!(e instanceof Crash)) throw e;
      crashes++;
      reconciler = newReconciler();
      continue;
    }
    const status = (await store.get('ProxyCanary', 'default', 'debug'))?.status ?? {};
    if (['Promoted', 'RolledBack', 'Held', 'Invalid'].includes(status.phase ?? '')) return { status, world: w, store, captured, crashes, writes: store.writes };
    if (requeueAfterMs === 0) continue;
    const step = Math.max(1, Math.min(requeueAfterMs ?? 30_000, 30_000));
    clock.advance(step);
    const held = new Set([...(status.deploy?.proxies ?? []), ...(status.revert?.proxies ?? [])].filter((p) => ['OutOfRotation', 'Draining', 'Upgrading', 'Verifying', 'RollingBack'].includes(p.step)).map((p) => p.name));
    w.tick(step, held);
  }
  throw new Error('the canary did not finish');
}

test('a good build bakes, passes and is promoted: a held-back ProxyRollout of the build for the fleet', async () => {
  const r = await runCanary(canary(), { connectsPerMinute: 100, connectFailureRatio: { '17.4.2': 0.005, [BUILD]: 0.005 } });
  assert.equal(r.status.phase, 'Promoted', r.status.message);
  assert.deepEqual(r.status.proxies, ['tokyo-1', 'london-1']);
  for (const p of ['tokyo-1', 'london-1']) assert.equal(r.world.proxies.get(p)?.version, BUILD);
  assert.equal(r.world.proxies.get('tokyo-2')?.version, '17.4.2');
  const upgrades = r.world.hooks.filter((h) => h.req.action === 'upgrade');
  assert.deepEqual(upgrades.map((h) => [h.req.proxy.name, h.req.flags]), [['tokyo-1', ['--debug']], ['london-1', ['--debug']]]);
  assert.ok((r.status.intervals ?? []).length >= 6, 'a verdict every interval of the bake');
  assert.ok(r.status.intervals?.some((i) => i.verdict === 'Pass'));
  const rollout = await r.store.get('ProxyRollout', 'default', 'debug-promote');
  assert.deepEqual([rollout?.spec.version, rollout?.spec.paused], [BUILD, true]);
  assert.equal(r.status.promotedRollout, 'default/debug-promote');
});

test('a build that fails node connections is caught by that check, diagnosed, and taken back to the old version', async () => {
  const r = await runCanary(canary(), { connectsPerMinute: 100, connectFailureRatio: { '17.4.2': 0.005, [BUILD]: 0.3 } });
  assert.equal(r.status.phase, 'RolledBack', r.status.message);
  assert.match(r.status.decision?.reason ?? '', /^connect-failure-ratio failed 2 intervals in a row: /);
  for (const p of ['tokyo-1', 'london-1']) assert.deepEqual([p, r.world.proxies.get(p)?.version, r.world.proxies.get(p)?.inLoadBalancer], [p, '17.4.2', true]);
  // The rollback runs the previous build: no debug flags.
  assert.ok(r.world.hooks.filter((h) => h.req.action === 'rollback' || (h.req.action === 'upgrade' && h.req.version === '17.4.2')).every((h) => h.req.flags === undefined));
  assert.deepEqual(r.captured, ['tokyo-1', 'london-1']);
  assert.deepEqual(r.status.diagnostics?.map((d) => d.proxy), ['tokyo-1', 'london-1']);
  // The rollback gave its own (short) notice first.
  assert.ok(r.status.revert?.notices?.every((n) => n.leadTime === '2m' && n.givenAt));
});

test('too little traffic never passes: the canary is held for the operator', async () => {
  const r = await runCanary(canary(), { connectsPerMinute: 0 });
  assert.equal(r.status.phase, 'Held');
  assert.match(r.status.decision?.reason ?? '', /too little traffic/);
  assert.ok(r.status.intervals?.every((i) => i.verdict === 'Inconclusive'));
});

test('a subset that would take a region\'s last ready proxy is refused before anything moves', async () => {
  const r = await runCanary(canary({ subset: { proxies: ['tokyo-1', 'tokyo-2', 'tokyo-3'] } }), {});
  assert.equal(r.status.phase, 'Invalid');
  assert.match(r.status.message ?? '', /takes every ready proxy of region "tokyo"/);
  assert.equal(r.world.hooks.length, 0);
});

test('a crash before or after any status write of a canary resumes to the same end, with no upgrade repeated', async () => {
  const world: WorldOptions = { connectsPerMinute: 100, connectFailureRatio: { '17.4.2': 0.005, [BUILD]: 0.3 } };
  const clean = await runCanary(canary(), world);
  const end = (r: typeof clean) => ({
    phase: r.status.phase,
    proxies: r.status.proxies,
    versions: [...r.world.proxies.values()].map((p) => [p.name, p.version, p.restarts, p.inLoadBalancer]),
    decided: r.status.decision?.reason.split(':')[0],
  });
  assert.equal(clean.status.phase, 'RolledBack');
  for (let at = 1; at <= clean.writes; at += 3)
    for (const afterWrite of [false, true]) {
      const crashed = await runCanary(canary(), world, { at, afterWrite });
      assert.equal(crashed.crashes, 1, `write ${at}: the crash happened`);
      assert.deepEqual(end(crashed), end(clean), `crash ${afterWrite ? 'after' : 'before'} write ${at}`);
    }
});

test('random fleets and subsets: the rollout invariants hold for canary proxies on the way to the build and back', async () => {
  for (let seed = 1; seed <= 12; seed++) {
    const rng = new Prng(seed);
    const regions = Array.from({ length: 2 + rng.int(3) }, (_, i) => ({ name: `r${i}`, latitude: i * 10, longitude: i * 20, timeZone: rng.pick(['UTC', 'Asia/Tokyo', 'America/Chicago']) ?? 'UTC' }));
    const proxies = regions.flatMap((r) => Array.from({ length: 2 + rng.int(3) }, (_, j) => ({ name: `${r.name}-p${j}`, region: r.name, publicUrl: `https://${r.name}-p${j}.example.com`, diagnosticUrl: `http://127.0.0.1:${j + 1}`, version: '17.4.2', upgrade: HOOK })));
    const spec: ProxyFleetSpec = { regions, proxies };
    const window = { days: EVERY_DAY.filter(() => rng.chance(0.6)), start: `${String(rng.int(24)).padStart(2, '0')}:00`, duration: `${2 + rng.int(6)}h` };
    const windows = Object.fromEntries(regions.map((r) => [r.name, [{ ...window, days: window.days.length ? window.days : EVERY_DAY }]]));
    const c = canary({
      subset: rng.pick([{ perRegion: 1 }, { perRegion: '50%' as const }, { proxies: [proxies[0]?.name ?? 'r0-p0'] }]) ?? { perRegion: 1 },
      maintenanceWindows: windows,
      notice: { leadTimes: rng.pick([['10m'], ['1h', '5m'], []]) ?? [], rollbackLeadTime: rng.pick(['2m', '15m']) ?? '2m' },
      drain: { deadline: rng.pick(['5m', '20m']) ?? '5m' },
    });
    const bad = rng.chance(0.5);
    const checked: string[] = [];
    const r = await runCanary(c, { connectsPerMinute: 100, connectFailureRatio: { '17.4.2': 0.005, [BUILD]: bad ? 0.3 : 0.005 } }, undefined, spec, (w, now, before, after) => {
      const proxiesOf = after.proxies ?? [];
      if (after.deploy) checkWrite({ fleet: spec, rollout: deploySpec(c.spec, spec, proxiesOf) }, w, now, before.deploy ?? {}, after.deploy);
      if (after.revert) checkWrite({ fleet: spec, rollout: revertSpec(c.spec, spec, proxiesOf, '17.4.2') }, w, now, before.revert ?? {}, after.revert);
      checked.push(after.phase ?? '');
    });
    assert.equal(r.status.phase, bad ? 'RolledBack' : 'Promoted', `seed ${seed}: ${r.status.message ?? ''}`);
    assert.ok(checked.length > 0);
    for (const p of r.status.proxies ?? []) assert.equal(r.world.proxies.get(p)?.version, bad ? '17.4.2' : BUILD, `seed ${seed}: ${p}`);
  }
});
