import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProxyFleetSpec } from '../../src/model/fleet.js';
import { checkWrite } from '../rollout/helpers/rollout-harness.js';
import { deploySpec, revertSpec } from '../../src/canary/core/canary-runs.js';
import { Prng } from '../../src/sim/prng.js';
import type { WorldOptions } from '../rollout/helpers/rollout-world.js';
import { BUILD, canary, EVERY_DAY, HOOK, recordCanary, resumeCanaryCrash, runCanary, type CanaryRun } from './helpers/run-canary.js';

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
  const back = r.world.hooks.filter((h) => h.req.action === 'rollback' || (h.req.action === 'upgrade' && h.req.version === '17.4.2'));
  assert.deepEqual(back.map((h) => [h.req.proxy.name, h.req.flags]), [['tokyo-1', undefined], ['london-1', undefined]]);
  assert.deepEqual(r.captured, ['tokyo-1', 'london-1']);
  assert.deepEqual(r.status.diagnostics?.map((d) => d.proxy), ['tokyo-1', 'london-1']);
  // The rollback gave its own (short) notice, a full lead time before it took each proxy out again.
  const notices = r.status.revert?.notices ?? [];
  assert.deepEqual(notices.map((n) => [n.region, n.leadTime]), [['tokyo', '2m'], ['london', '2m']]);
  for (const [region, proxy] of [['tokyo', 'tokyo-1'], ['london', 'london-1']]) {
    const givenAt = Date.parse(notices.find((n) => n.region === region)?.givenAt ?? '');
    const takenOut = r.world.hooks.find((h) => h.req.action === 'out-of-rotation' && h.req.proxy.name === proxy && h.req.version === BUILD);
    assert.ok(takenOut && takenOut.at - givenAt >= 2 * 60_000, `${proxy}: notice given ${new Date(givenAt).toISOString()}, taken out ${takenOut ? new Date(takenOut.at).toISOString() : 'never'}`);
  }
});

test('too little traffic never passes: the canary is held for the operator', async () => {
  const r = await runCanary(canary(), { connectsPerMinute: 0 });
  assert.equal(r.status.phase, 'Held');
  assert.match(r.status.decision?.reason ?? '', /too little traffic/);
  // Every interval of the 30m bake (5m each) was judged, and none could be.
  assert.deepEqual(r.status.intervals?.map((i) => i.verdict), Array(6).fill('Inconclusive'));
});

test('a subset that would take a region\'s last ready proxy is refused before anything moves', async () => {
  const r = await runCanary(canary({ subset: { proxies: ['tokyo-1', 'tokyo-2', 'tokyo-3'] } }), {});
  assert.equal(r.status.phase, 'Invalid');
  assert.match(r.status.message ?? '', /takes every ready proxy of region "tokyo"/);
  assert.equal(r.world.hooks.length, 0);
});

test('a crash before or after any status write of a canary resumes to the same end, with no upgrade repeated', async () => {
  const world: WorldOptions = { connectsPerMinute: 100, connectFailureRatio: { '17.4.2': 0.005, [BUILD]: 0.3 } };
  const clean = await recordCanary(canary(), world);
  const end = (r: CanaryRun) => ({
    phase: r.status.phase,
    proxies: r.status.proxies,
    versions: [...r.world.proxies.values()].map((p) => [p.name, p.version, p.restarts, p.inLoadBalancer]),
    decided: r.status.decision?.reason.split(':')[0],
  });
  assert.equal(clean.result.status.phase, 'RolledBack');
  for (let at = 1; at <= clean.result.writes; at++)
    for (const afterWrite of [false, true]) {
      const crashed = await resumeCanaryCrash(canary(), world, clean, { at, afterWrite });
      assert.equal(crashed.crashes, 1, `write ${at}: the crash happened`);
      assert.deepEqual(end(crashed), end(clean.result), `crash ${afterWrite ? 'after' : 'before'} write ${at}`);
    }
  // resumeCanaryCrash is the run from the start, the quick way: the slow way agrees.
  for (const crash of [{ at: 1, afterWrite: false }, { at: clean.result.writes, afterWrite: true }]) {
    const slow = await runCanary(canary(), world, { crash });
    assert.deepEqual([slow.crashes, end(slow)], [1, end(await resumeCanaryCrash(canary(), world, clean, crash))], `crash at write ${crash.at}, the slow way`);
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
    const r = await runCanary(c, { connectsPerMinute: 100, connectFailureRatio: { '17.4.2': 0.005, [BUILD]: bad ? 0.3 : 0.005 } }, {
      fleet: spec,
      check: (w, now, before, after) => {
        const proxiesOf = after.proxies ?? [];
        if (after.deploy) checkWrite({ fleet: spec, rollout: deploySpec(c.spec, spec, proxiesOf) }, w, now, before.deploy ?? {}, after.deploy);
        if (after.revert) checkWrite({ fleet: spec, rollout: revertSpec(c.spec, spec, proxiesOf, '17.4.2') }, w, now, before.revert ?? {}, after.revert);
        checked.push(after.phase ?? '');
      },
    });
    assert.equal(r.status.phase, bad ? 'RolledBack' : 'Promoted', `seed ${seed}: ${r.status.message ?? ''}`);
    assert.ok(checked.length > 0);
    for (const p of r.status.proxies ?? []) assert.equal(r.world.proxies.get(p)?.version, bad ? '17.4.2' : BUILD, `seed ${seed}: ${p}`);
  }
});
