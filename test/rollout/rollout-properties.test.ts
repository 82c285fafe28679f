import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MaintenanceWindow, ProxyFleetSpec, Weekday } from '../../src/model/fleet.js';
import { WEEKDAYS } from '../../src/model/fleet.js';
import type { ProxyRolloutSpec } from '../../src/model/rollout.js';
import { rolloutFleetErrors } from '../../src/model/rollout-rules.js';
import { Prng } from '../../src/sim/prng.js';
import { recordScenario, resumeCrash, runScenario, type RunResult, type Scenario } from './helpers/rollout-harness.js';

// Zones without a daylight-saving change in January, so the wall-clock window check is exact.
const ZONES = ['Asia/Tokyo', 'Europe/London', 'America/Chicago', 'America/Sao_Paulo', 'Asia/Kolkata', 'UTC'];

/** A random fleet and rollout that pass validation: the invariants must hold for every one. */
function randomScenario(seed: number): Scenario {
  const rng = new Prng(seed);
  const regionCount = 1 + rng.int(4);
  const regions = Array.from({ length: regionCount }, (_, i) => {
    const days = WEEKDAYS.filter(() => rng.chance(0.4));
    const window: MaintenanceWindow = {
      days: (days.length ? days : [rng.pick(WEEKDAYS) ?? 'Sat']) as Weekday[],
      start: `${String(rng.int(24)).padStart(2, '0')}:${rng.chance(0.5) ? '00' : '30'}`,
      duration: `${1 + rng.int(6)}h`,
    };
    return { name: `r${i}`, latitude: 0, longitude: 0, timeZone: rng.pick(ZONES) ?? 'UTC', maintenanceWindows: [window] };
  });
  const proxies = regions.flatMap((r) =>
    Array.from({ length: 2 + rng.int(4) }, (_, j) => ({
      name: `${r.name}-p${j}`,
      region: r.name,
      publicUrl: `https://${r.name}-p${j}.example.com`,
      diagnosticUrl: `http://127.0.0.1:${1000 + j}`,
      version: '17.4.2',
      upgrade: rng.chance(0.5) ? { method: 'webhook' as const, url: 'https://hooks.example.com/u' } : { method: 'command' as const, command: ['upgrade', '{proxy}', '{version}'] },
    })),
  );
  const fleet: ProxyFleetSpec = { regions, proxies };
  const leads = ['48h', '24h', '1h', '10m'].filter(() => rng.chance(0.5));
  const rollout: ProxyRolloutSpec = {
    version: '17.5.0',
    maxUnavailable: rng.pick([1, 2, '50%', '34%']) ?? 1,
    notice: {
      leadTimes: leads,
      channels: rng.chance(0.7) ? [{ name: 'ops', type: 'slack', url: 'https://hooks.slack.example/x' }] : [],
    },
    drain: { deadline: rng.pick(['10m', '30m', '2h']) ?? '30m' },
    verify: { consecutiveScrapes: 1 + rng.int(3), timeout: '10m' },
    ...(rng.chance(0.4) && regionCount > 1 ? { waves: [{ name: 'first', regions: ['r0'] }, { name: 'rest', regions: regions.slice(1).map((r) => r.name) }] } : {}),
  };
  const sessions = new Map(proxies.map((p) => [p.name, rng.int(400)]));
  // One proxy of some regions is down throughout: the last-ready rule must hold around it.
  const unhealthy = regions.filter(() => rng.chance(0.3)).map((r) => `${r.name}-p0`);
  return {
    fleet,
    rollout,
    startAt: Date.UTC(2026, 0, 1 + rng.int(7), rng.int(24)),
    sessions: (n) => sessions.get(n) ?? 0,
    unhealthy,
    world: { channelFailures: rng.chance(0.3) ? { ops: 1 + rng.int(3) } : {}, sessionHalfLifeMs: rng.pick([60_000, 600_000, 3_600_000]) ?? 600_000 },
  };
}

test('random fleets: every rollout ends with every healthy proxy upgraded and the invariants held at every write', async () => {
  for (let seed = 1; seed <= 40; seed++) {
    const s = randomScenario(seed);
    assert.deepEqual(rolloutFleetErrors(s.rollout, s.fleet), [], `seed ${seed}: the generated spec is valid`);
    const r = await runScenario(s);
    const unhealthy = new Set(s.unhealthy);
    // An unhealthy proxy never verifies: with the default policy the rollout halts on it.
    if (r.status.phase === 'Failed') assert.ok(r.status.proxies?.some((p) => p.step === 'Failed' && unhealthy.has(p.name)), `seed ${seed}: ${r.status.message}`);
    else assert.equal(r.status.phase, 'Completed', `seed ${seed}: ${r.status.message}`);
    for (const p of r.status.proxies ?? []) if (p.step === 'Done') assert.equal(r.world.proxies.get(p.name)?.version, '17.5.0');
  }
});

test('a crash before or after any status write resumes to the same end state, with no upgrade repeated and no notice skipped', async () => {
  for (const seed of [3, 7, 11]) {
    const s = randomScenario(seed);
    const clean = await recordScenario(s);
    const endState = (r: RunResult) => ({
      phase: r.status.phase,
      steps: r.status.proxies?.map((p) => [p.name, p.step]),
      versions: [...r.world.proxies.values()].map((p) => [p.name, p.version, p.restarts]),
      notices: [...new Set(r.world.notices.map((n) => `${n.id} ${n.channel}`))].sort(),
    });
    const writes = clean.result.writes;
    for (let at = 1; at <= writes; at++)
      for (const afterWrite of [false, true]) {
        const crashed = await resumeCrash(s, clean, { at, afterWrite });
        assert.equal(crashed.crashes, 1, `seed ${seed} write ${at}: the crash happened`);
        assert.deepEqual(endState(crashed), endState(clean.result), `seed ${seed}: crash ${afterWrite ? 'after' : 'before'} write ${at}`);
      }
    // resumeCrash is the run from the start, the quick way: the slow way agrees on a few crash points.
    for (const crash of [{ at: 1, afterWrite: false }, { at: Math.ceil(writes / 2), afterWrite: true }, { at: writes, afterWrite: true }]) {
      const slow = await runScenario(s, crash);
      const quick = await resumeCrash(s, clean, crash);
      assert.deepEqual([slow.crashes, endState(slow)], [quick.crashes, endState(quick)], `seed ${seed}: crash at write ${crash.at}, the slow way`);
    }
  }
});
