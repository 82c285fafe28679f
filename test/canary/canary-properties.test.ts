import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProxyCanary, ProxyCanarySpec } from '../../src/model/canary.js';
import type { ProxyFleetSpec } from '../../src/model/fleet.js';
import type { QueryPrometheus } from '../../src/model/prometheus.js';
import { ok } from '../../src/model/result.js';
import { API_VERSION } from '../../src/model/resource.js';
import { Prng } from '../../src/sim/prng.js';
import { recordCrashCase, resumeCrashCase, runCrashCase, type CrashCase, type CrashRun } from './helpers/crash-harness.js';
import { ALWAYS, BUILD, HOOK } from './helpers/run-canary.js';

/** The canary's proxies' error ratio as Prometheus would give it: high on a bad build. */
function prometheus(bad: boolean): QueryPrometheus {
  return async (q) => ok(q.promql.startsWith('sample') ? 500 : q.promql.includes(BUILD) ? (bad ? 0.2 : 0.012) : 0.01);
}

/** A random canary that passes validation: good or bad (by its node connections or by Prometheus), debug or not, with or without notices. */
function randomCase(seed: number): CrashCase & { readonly expected: string } {
  const rng = new Prng(seed);
  const regions = ['tokyo', 'london'].map((name, i) => ({ name, latitude: i * 30, longitude: i * 90, timeZone: 'UTC' }));
  const proxies = regions.flatMap((r) => Array.from({ length: 2 + rng.int(2) }, (_, j) => ({ name: `${r.name}-${j + 1}`, region: r.name, publicUrl: `https://${r.name}-${j + 1}.example.com`, diagnosticUrl: `http://127.0.0.1:${j + 1}`, version: '17.4.2', upgrade: HOOK })));
  const fleet: ProxyFleetSpec = { regions, proxies };
  const badBy = rng.pick(['none', 'connections', 'prometheus'] as const) ?? 'none';
  const withProm = badBy === 'prometheus' || rng.chance(0.3);
  const onSuccess = rng.chance(0.25) ? ('revert' as const) : ('promote' as const);
  const spec: ProxyCanarySpec = {
    build: { version: BUILD, debug: rng.chance(0.7) },
    subset: rng.chance(0.5) ? { perRegion: 1 } : { proxies: ['tokyo-1'] },
    bakeTime: '10m',
    analysisInterval: '5m',
    maintenanceWindows: { tokyo: ALWAYS, london: ALWAYS },
    notice: { leadTimes: rng.chance(0.5) ? ['5m'] : [], rollbackLeadTime: '1m', ...(rng.chance(0.5) ? { channels: [{ name: 'ops', type: 'slack' as const, url: 'https://hooks.slack.example/x' }] } : {}) },
    drain: { deadline: '2m' },
    onSuccess,
    ...(rng.chance(0.3) ? { diagnostics: { command: ['capture', '{proxy}', '{dir}'] } } : {}),
    ...(withProm
      ? { analysis: { prometheus: { address: 'http://prometheus.example:9090', queries: [{ name: 'error-ratio', query: 'value{version="{{version}}",proxy="{{proxy}}"}', sampleQuery: 'sample{proxy="{{proxy}}"}', baselineQuery: 'value{version="{{version}}",proxy=~"{{proxy}}"}', max: 0.05, maxRelative: 2 }] } } }
      : {}),
  };
  const canary: ProxyCanary = { apiVersion: API_VERSION, kind: 'ProxyCanary', metadata: { name: `c${seed}`, namespace: 'default', generation: 1 }, spec };
  const world = { connectsPerMinute: 100, connectFailureRatio: { '17.4.2': 0.005, [BUILD]: badBy === 'connections' ? 0.3 : 0.005 } };
  const expected = badBy === 'none' ? (onSuccess === 'revert' ? 'RolledBack' : 'Promoted') : 'RolledBack';
  return { fleet, canary, world, ...(withProm ? { queryPrometheus: prometheus(badBy === 'prometheus') } : {}), expected };
}

/** Where the canary ended and every outside change as its receiver recorded it (ids differ when a restart shifts the times; what happened must not). */
function endState(r: CrashRun) {
  const sorted = (xs: string[]) => xs.sort();
  return {
    phase: r.status.phase,
    proxies: r.status.proxies,
    decided: [r.status.decision?.kind, r.status.decision?.reason.split(':')[0]],
    versions: [...r.world.proxies.values()].map((p) => [p.name, p.version, p.restarts, p.inLoadBalancer]),
    // Hooks that took effect (a receiver drops an id it has seen): each change once.
    hooks: sorted(r.world.hooks.filter((h) => h.tookEffect).map((h) => `${h.req.action} ${h.req.proxy.name} ${h.req.version}`)),
    // Notices by id (sent again with its id after a crash is the same notice): none skipped, none new.
    notices: sorted([...new Map(r.world.notices.map((n) => [n.id, `${n.channel} ${n.region} ${n.leadTime}`])).values()]),
    // Captures by id: one per failing proxy.
    captures: sorted([...r.captures.values()].map((c) => c.proxy)),
    created: r.store.created,
    diagnostics: sorted((r.status.diagnostics ?? []).map((d) => d.proxy)),
  };
}

test('random canaries: a crash before or after any status write or outside action resumes to the same end, with no outside change made twice', async () => {
  const phases = new Set<string>();
  // Chosen among the random cases to cover, in few calls: a failing build by its connections (with notices and a capture), one failing by Prometheus, a promotion.
  for (const seed of [14, 5, 12]) {
    const s = randomCase(seed);
    const recorded = await recordCrashCase(s);
    const clean = recorded.result;
    assert.equal(clean.status.phase, s.expected, `seed ${seed}: ${clean.status.message ?? ''}`);
    phases.add(clean.status.phase ?? '');
    // Each pass: at most one outside action (a capture of several proxies, a notice on several channels or the
    // interval's queries is one), and the status written once, or twice around that action (the intent, then the outcome).
    for (const [i, p] of clean.passes.entries()) {
      assert.ok(new Set(p.changes).size <= 1 && p.changes.filter((c) => c === 'hook' || c === 'create').length <= 1, `seed ${seed} pass ${i}: ${p.changes.join(', ')}`);
      assert.ok(p.writes <= (p.changes.length ? 2 : 1), `seed ${seed} pass ${i}: ${p.writes} status writes around ${p.changes.join(', ') || 'no outside change'}`);
    }
    const want = endState(clean);
    for (let at = 1; at <= clean.calls; at++)
      for (const after of [false, true]) {
        const crashed = await resumeCrashCase(s, recorded, { at, after });
        const where = `seed ${seed}: crash ${after ? 'after' : 'before'} call ${at} of ${clean.calls}`;
        assert.equal(crashed.crashes, 1, `${where}: the crash happened`);
        assert.deepEqual(endState(crashed), want, where);
      }
    // resumeCrashCase is the run from the start, the quick way: the slow way agrees.
    for (const crash of [{ at: 1, after: false }, { at: clean.calls, after: true }]) {
      const slow = await runCrashCase(s, crash);
      assert.deepEqual([slow.crashes, endState(slow)], [1, endState(await resumeCrashCase(s, recorded, crash))], `seed ${seed}: crash at call ${crash.at}, the slow way`);
    }
  }
  assert.deepEqual([...phases].sort(), ['Promoted', 'RolledBack'], 'the cases cover both ends');
});

test('another instance taking over at every pass goes on with the analysis interval: every interval counts all its scrapes', async () => {
  const s = randomCase(12);
  const one = await runCrashCase(s);
  const many = await runCrashCase(s, undefined, { handOverEveryPass: true });
  assert.equal(many.status.phase, 'Promoted', many.status.message);
  assert.deepEqual(many.status.intervals, one.status.intervals);
  // 100 connections a minute over each 5m interval, all of them counted.
  const samples = (many.status.intervals ?? []).map((i) => i.outcomes.find((o) => o.check === 'connect-failure-ratio')?.sample);
  assert.deepEqual(samples, [500, 500]);
});
