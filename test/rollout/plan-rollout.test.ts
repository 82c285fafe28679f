import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MaintenanceWindow, Proxy, ProxyFleetSpec } from '../../src/model/fleet.js';
import type { ProxyRolloutSpec } from '../../src/model/rollout.js';
import { nextWindow } from '../../src/rollout/core/maintenance-window.js';
import { estimateDrain, harmonic } from '../../src/rollout/core/plan-drain.js';
import { planRollout, planRolloutChecked, RESTART_ALLOWANCE_MS, type PlannedProxy, type RolloutPlan } from '../../src/rollout/core/plan-rollout.js';
import { stepRollout } from '../../src/rollout/core/step-rollout.js';
import { fleetSpec } from '../helpers/fleet-fixture.js';
import { runScenario } from './helpers/rollout-harness.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const MEAN = 30 * MIN;
const SCRAPE = 15_000;
const UPGRADE = 3 * SCRAPE + RESTART_ALLOWANCE_MS;
const ROLLOUT = 'default/upgrade';
// Thursday 2026-01-01 00:00 UTC: the first Saturday windows are more than 24 h ahead.
const NOW = Date.UTC(2026, 0, 1);
const SAT_4H: MaintenanceWindow[] = [{ days: ['Sat', 'Sun'], start: '02:00', duration: '4h' }];
const HOOK = { method: 'webhook' as const, url: 'https://hooks.example.com/upgrade' };
const OPS = { name: 'ops', type: 'webhook' as const, url: 'https://notify.example.com' };

function proxy(name: string, region: string, version = '17.4.2'): Proxy {
  return { name, region, publicUrl: `https://${name}.example.com`, diagnosticUrl: 'http://127.0.0.1:1', version, upgrade: HOOK };
}

/** The fixture's tokyo and london regions with windows, and `perRegion` proxies in each. */
function fleet(o: { windows?: MaintenanceWindow[]; perRegion?: number; extra?: ProxyFleetSpec['regions']; proxies?: Proxy[] } = {}): ProxyFleetSpec {
  const base = fleetSpec();
  const n = o.perRegion ?? 2;
  const regions = [...base.regions, ...(o.extra ?? [])].map((r) => ({ ...r, maintenanceWindows: o.windows ?? SAT_4H }));
  const proxies = o.proxies ?? ['tokyo', 'london'].flatMap((r) => Array.from({ length: n }, (_, i) => proxy(`${r}-${i + 1}`, r)));
  return { regions, proxies };
}

function plan(spec: Partial<ProxyRolloutSpec>, f: ProxyFleetSpec, sessions: Record<string, number> = {}, now = NOW): RolloutPlan {
  return planRollout({ rollout: ROLLOUT, spec: { version: '17.4.8', ...spec }, fleet: f, sessions: new Map(Object.entries(sessions)), now, scrapeIntervalMs: SCRAPE });
}

function proxies(p: RolloutPlan): PlannedProxy[] {
  return p.waves.flatMap((w) => w.regions.flatMap((r) => r.occurrences.flatMap((o) => o.batches.flatMap((b) => b.proxies))));
}

function region(p: RolloutPlan, name: string) {
  const r = p.waves.flatMap((w) => w.regions).find((x) => x.region === name);
  assert.ok(r, `region ${name} in the plan`);
  return r;
}

test('harmonic drain estimate, capped at the deadline with the sessions expected open then', () => {
  const cases: { n: number; mean: number; deadline: number; drainMs: number; capped: boolean; cut: number }[] = [
    { n: 0, mean: MEAN, deadline: 2 * HOUR, drainMs: 0, capped: false, cut: 0 },
    { n: 1, mean: MEAN, deadline: 2 * HOUR, drainMs: MEAN, capped: false, cut: 0 },
    { n: 3, mean: MEAN, deadline: 2 * HOUR, drainMs: MEAN * (1 + 1 / 2 + 1 / 3), capped: false, cut: 0 },
    // H_200 = 5.878: 2h56m expected, past the 2 h deadline; 200 * e^-4 = 3.66 still open.
    { n: 200, mean: MEAN, deadline: 2 * HOUR, drainMs: 2 * HOUR, capped: true, cut: 4 },
    { n: 500, mean: MEAN, deadline: HOUR, drainMs: HOUR, capped: true, cut: 68 },
    { n: 10, mean: MEAN, deadline: 0, drainMs: 0, capped: true, cut: 10 },
    { n: 10, mean: 0, deadline: HOUR, drainMs: 0, capped: false, cut: 0 },
  ];
  for (const c of cases) {
    const e = estimateDrain(c.n, c.mean, c.deadline);
    assert.ok(Math.abs(e.drainMs - c.drainMs) < 1e-6, `N=${c.n}: ${e.drainMs} vs ${c.drainMs}`);
    assert.equal(e.capped, c.capped, `N=${c.n} capped`);
    assert.equal(e.expectedCut, c.cut, `N=${c.n} cut`);
  }
  assert.equal(harmonic(0), 0);
  assert.ok(Math.abs(harmonic(4) - 25 / 12) < 1e-12);
});

test('the plan picks the windows and notices the controller schedules when it starts', () => {
  const cases: { name: string; spec: Partial<ProxyRolloutSpec>; fleet: ProxyFleetSpec; now?: number }[] = [
    { name: 'one wave per region', spec: {}, fleet: fleet() },
    { name: 'channels and a custom template', spec: { notice: { channels: [OPS], leadTimes: ['48h', '2h'], message: '{region} {proxies} {localTime} {utcTime} {leadTime} {rollout}' } }, fleet: fleet() },
    {
      name: 'waves of several regions',
      spec: { waves: [{ name: 'west', regions: ['london', 'chicago'] }, { name: 'east', regions: ['tokyo'] }] },
      fleet: fleet({
        extra: [{ name: 'chicago', latitude: 41.88, longitude: -87.63, timeZone: 'America/Chicago' }],
        proxies: [proxy('tokyo-1', 'tokyo'), proxy('tokyo-2', 'tokyo'), proxy('london-1', 'london'), proxy('london-2', 'london'), proxy('chicago-1', 'chicago'), proxy('chicago-2', 'chicago')],
      }),
    },
    { name: 'a window too short for the region', spec: { maxUnavailable: 1 }, fleet: fleet({ windows: [{ days: ['Sat'], start: '02:00', duration: '1h' }], perRegion: 3 }) },
    { name: 'a window already open, no lead times', spec: { notice: { leadTimes: [] } }, fleet: fleet({ windows: [{ days: ['Thu'], start: '00:00', duration: '1d' }] }), now: Date.UTC(2026, 0, 1, 12) },
    {
      name: 'a region already on the version',
      spec: {},
      fleet: fleet({ proxies: [proxy('tokyo-1', 'tokyo', '17.4.8'), proxy('tokyo-2', 'tokyo', 'v17.4.8'), proxy('london-1', 'london'), proxy('london-2', 'london', '17.4.8')] }),
    },
  ];
  for (const c of cases) {
    const now = c.now ?? NOW;
    const spec: ProxyRolloutSpec = { version: '17.4.8', ...c.spec };
    const p = plan(c.spec, c.fleet, {}, now);
    const step = stepRollout({ rollout: ROLLOUT, generation: 1, spec, status: {}, fleet: c.fleet, observations: new Map(), now });
    const planned = p.waves.flatMap((w) => w.regions.flatMap((r) => (r.window ? [{ region: r.region, startAt: new Date(r.window.startAt).toISOString(), endAt: new Date(r.window.endAt).toISOString(), timeZone: r.timeZone }] : [])));
    assert.deepEqual(planned, step.status.windows, c.name);
    const plannedNotices = p.waves.flatMap((w) => w.regions.flatMap((r) => r.occurrences[0]?.notices ?? []));
    assert.deepEqual(
      plannedNotices.map((n) => [n.id, new Date(n.sendAt).toISOString(), n.message]),
      (step.status.notices ?? []).map((n) => [n.id, n.dueAt, n.message]),
      `${c.name}: notices`,
    );
  }
});

test('batches respect maxUnavailable and keep the last ready proxy in rotation', () => {
  const one = (n: number) => fleet({ proxies: Array.from({ length: n }, (_, i) => proxy(`tokyo-${i + 1}`, 'tokyo')) });
  const cases: { name: string; n: number; spec: Partial<ProxyRolloutSpec>; sizes: number[] }[] = [
    { name: 'default 1', n: 3, spec: {}, sizes: [1, 1, 1] },
    { name: 'count 2', n: 5, spec: { maxUnavailable: 2 }, sizes: [2, 2, 1] },
    { name: '50% of 6', n: 6, spec: { maxUnavailable: '50%' }, sizes: [3, 3] },
    { name: '10% of 6 is at least 1', n: 6, spec: { maxUnavailable: '10%' }, sizes: [1, 1, 1, 1, 1, 1] },
    { name: 'never the last ready one', n: 2, spec: { maxUnavailable: 2 }, sizes: [1, 1] },
    { name: 'unless an outage is allowed', n: 2, spec: { maxUnavailable: 2, allowRegionOutage: true }, sizes: [2] },
  ];
  for (const c of cases) {
    const f = one(c.n);
    const p = plan({ ...c.spec, drain: { deadline: '20m' } }, f, Object.fromEntries(f.proxies.map((x) => [x.name, 10])));
    const r = region(p, 'tokyo');
    const batches = r.occurrences.flatMap((o) => o.batches);
    assert.deepEqual(batches.map((b) => b.proxies.length), c.sizes, c.name);
    // Fleet order, and no more out at once than the limit at any moment.
    assert.deepEqual(batches.flatMap((b) => b.proxies.map((x) => x.name)), f.proxies.map((x) => x.name), `${c.name}: order`);
    const all = proxies(p);
    for (const x of all) assert.ok(all.filter((y) => y.outAt <= x.outAt && y.backAt > x.outAt).length <= Math.max(...c.sizes), `${c.name}: ${x.name}`);
  }
});

test('each proxy goes out when a slot frees, drains for M * H_N and comes back after upgrade and verification', () => {
  const f = fleet({ proxies: [proxy('tokyo-1', 'tokyo'), proxy('tokyo-2', 'tokyo'), proxy('tokyo-3', 'tokyo'), proxy('london-1', 'london'), proxy('london-2', 'london')] });
  const p = plan({}, f, { 'tokyo-1': 1, 'tokyo-2': 3, 'tokyo-3': 0, 'london-1': 0, 'london-2': 0 });
  const [t1, t2, t3] = region(p, 'tokyo').occurrences[0]?.batches.flatMap((b) => b.proxies) ?? [];
  assert.ok(t1 && t2 && t3);
  const windowStart = region(p, 'tokyo').window?.startAt;
  assert.equal(t1.outAt, windowStart);
  assert.equal(t1.drainMs, MEAN);
  assert.equal(t1.backAt, t1.outAt + MEAN + UPGRADE);
  assert.equal(t2.outAt, t1.backAt);
  assert.ok(Math.abs(t2.drainMs - MEAN * (11 / 6)) < 1);
  assert.equal(t3.outAt, t2.backAt);
  assert.equal(t3.drainMs, 0);
  assert.equal(t3.backAt, t3.outAt + UPGRADE);
  assert.equal(region(p, 'tokyo').busyMs, t3.backAt - t1.outAt);
  assert.equal(region(p, 'tokyo').fitsWindow, true);
});

test('a drain past the deadline is capped and its expected open sessions count as cut', () => {
  const f = fleet();
  const p = plan({ drain: { deadline: '1h' } }, f, { 'tokyo-1': 500, 'tokyo-2': 1, 'london-1': 200, 'london-2': 0 });
  const t1 = proxies(p).find((x) => x.name === 'tokyo-1');
  assert.equal(t1?.drainMs, HOUR);
  assert.equal(t1?.drainCapped, true);
  assert.equal(t1?.expectedCut, Math.round(500 * Math.exp(-2)));
  const l1 = proxies(p).find((x) => x.name === 'london-1');
  assert.equal(l1?.expectedCut, Math.round(200 * Math.exp(-2)));
  assert.equal(proxies(p).find((x) => x.name === 'tokyo-2')?.drainCapped, false);
  assert.equal(p.totals.expectedCut, 68 + 27);
  assert.equal(p.totals.sessionsNow, 701);
  assert.equal(region(p, 'tokyo').expectedCut, 68);
});

test('proxies that do not go out before the window closes spill to the next occurrence, with fresh notices', () => {
  const windows: MaintenanceWindow[] = [{ days: ['Sat'], start: '02:00', duration: '1h' }];
  const f = fleet({ windows, perRegion: 3 });
  const sessions = Object.fromEntries(f.proxies.map((x) => [x.name, 100]));
  const p = plan({ drain: { deadline: '40m' } }, f, sessions);
  const tokyo = region(p, 'tokyo');
  // 40m drain + 1m15s: two proxies go out in the hour (02:00 and 02:41), the third spills.
  assert.equal(tokyo.fitsWindow, false);
  assert.deepEqual(tokyo.spilled, ['tokyo-3']);
  const [first, second] = tokyo.occurrences;
  assert.ok(first && second);
  assert.deepEqual(first.batches.map((b) => b.proxies.map((x) => x.name)), [['tokyo-1'], ['tokyo-2']]);
  assert.deepEqual(first.replaced, { at: first.window.endAt, because: 'window-closed' });
  // The controller replaces the window when it closes, far enough ahead for the longest notice.
  const expected = nextWindow(windows, 'Asia/Tokyo', first.window.endAt + 24 * HOUR);
  assert.equal(second.window.startAt, expected?.startAt);
  assert.equal(second.window.startLocal, 'Sat 2026-01-10 02:00 GMT+9');
  assert.deepEqual(second.batches.map((b) => b.proxies.map((x) => x.name)), [['tokyo-3']]);
  assert.match(second.notices[0]?.message ?? '', /^Teleport proxy tokyo-3 \(Tokyo\) will be upgraded/);
  // tokyo-2 is still draining when the window closes: a drain under way may finish.
  assert.ok(tokyo.overrunMs > 0);
  assert.deepEqual(p.totals.spilledRegions, ['tokyo', 'london']);
});

test('waves run in order: a later wave starts after the earlier wave is back, and moves when it spills', () => {
  const f = fleet();
  const ordered = plan({ waves: [{ name: 'europe', regions: ['london'] }, { name: 'asia', regions: ['tokyo'] }] }, f);
  assert.deepEqual(ordered.waves.map((w) => [w.name, w.regions.map((r) => r.region)]), [['europe', ['london']], ['asia', ['tokyo']]]);
  const [europe, asia] = ordered.waves;
  assert.ok(europe && asia && europe.endAt !== undefined && asia.startAt !== undefined);
  assert.ok(asia.startAt >= europe.endAt);
  assert.ok((asia.regions[0]?.window?.startAt ?? 0) >= (europe.regions[0]?.window?.endAt ?? Infinity));

  // Tokyo's hour is too short for two drains; London's window moves a week with it.
  const short = fleet({ windows: [{ days: ['Sat'], start: '02:00', duration: '1h' }] });
  const p = plan({ drain: { deadline: '1h' }, notice: { channels: [OPS] } }, short, { 'tokyo-1': 50, 'tokyo-2': 50 });
  const london = region(p, 'london');
  const [old, moved] = london.occurrences;
  assert.ok(old && moved);
  assert.equal(old.batches.length, 0);
  assert.equal(old.replaced?.because, 'earlier-wave-moved');
  // The 24 h notice went out before Tokyo's window closed; the 1 h and 10 m ones are dropped.
  assert.deepEqual(old.notices.map((n) => [n.leadTime, n.sent]), [['24h', true], ['1h', false], ['10m', false]]);
  assert.ok(moved.window.startAt >= (region(p, 'tokyo').occurrences[1]?.window.endAt ?? Infinity));
  assert.deepEqual(london.spilled, ['london-1', 'london-2']);
  assert.equal(p.totals.notices, 3 + 3 + 1 + 3);
});

test('local times follow the region across daylight-saving changes (America/Chicago)', () => {
  const chicago = { name: 'chicago', latitude: 41.88, longitude: -87.63, timeZone: 'America/Chicago' };
  const f = (windows: MaintenanceWindow[]): ProxyFleetSpec => ({
    regions: [{ ...chicago, maintenanceWindows: windows }],
    proxies: [proxy('chicago-1', 'chicago'), proxy('chicago-2', 'chicago')],
  });
  const cases: { name: string; windows: MaintenanceWindow[]; now: number; start: [string, string]; end: [string, string] }[] = [
    {
      name: '01:00 on the spring-forward night: 3 h later is 05:00 CDT',
      windows: [{ days: ['Sun'], start: '01:00', duration: '3h' }],
      now: Date.UTC(2026, 2, 5),
      start: ['Sun 2026-03-08 01:00 CST', '2026-03-08 07:00 UTC'],
      end: ['Sun 2026-03-08 05:00 CDT', '2026-03-08 10:00 UTC'],
    },
    {
      name: '02:00 does not exist that night: it starts at 03:00 CDT, as cron does',
      windows: [{ days: ['Sun'], start: '02:00', duration: '3h' }],
      now: Date.UTC(2026, 2, 5),
      start: ['Sun 2026-03-08 03:00 CDT', '2026-03-08 08:00 UTC'],
      end: ['Sun 2026-03-08 06:00 CDT', '2026-03-08 11:00 UTC'],
    },
    {
      name: '02:00 the Saturday before, still on standard time',
      windows: [{ days: ['Sat'], start: '02:00', duration: '3h' }],
      now: Date.UTC(2026, 2, 5),
      start: ['Sat 2026-03-07 02:00 CST', '2026-03-07 08:00 UTC'],
      end: ['Sat 2026-03-07 05:00 CST', '2026-03-07 11:00 UTC'],
    },
    {
      name: '01:00 on the fall-back night: the first 01:00 (CDT), 3 h later is 03:00 CST',
      windows: [{ days: ['Sun'], start: '01:00', duration: '3h' }],
      now: Date.UTC(2026, 9, 29),
      start: ['Sun 2026-11-01 01:00 CDT', '2026-11-01 06:00 UTC'],
      end: ['Sun 2026-11-01 03:00 CST', '2026-11-01 09:00 UTC'],
    },
  ];
  for (const c of cases) {
    const p = plan({}, f(c.windows), {}, c.now);
    const w = region(p, 'chicago').window;
    assert.deepEqual([w?.startLocal, w?.startUtc], c.start, c.name);
    assert.deepEqual([w?.endLocal, w?.endUtc], c.end, c.name);
    const notice = region(p, 'chicago').occurrences[0]?.notices.find((n) => n.leadTime === '1h');
    assert.equal(notice?.sendAt, (w?.startAt ?? 0) - HOUR, c.name);
    assert.match(notice?.message ?? '', new RegExp(`starting ${c.start[0]} \\(${c.start[1]}\\)`), c.name);
  }
  // After the change the same 02:00 local window is an hour earlier in UTC.
  const later = plan({}, f([{ days: ['Sat'], start: '02:00', duration: '3h' }]), {}, Date.UTC(2026, 2, 9));
  assert.equal(region(later, 'chicago').window?.startLocal, 'Sat 2026-03-14 02:00 CDT');
  assert.equal(region(later, 'chicago').window?.startUtc, '2026-03-14 07:00 UTC');
});

test('proxies already on the target version are skipped; a region with nothing left gets no window', () => {
  const f = fleet({ proxies: [proxy('tokyo-1', 'tokyo', '17.4.8'), proxy('tokyo-2', 'tokyo', 'v17.4.8'), proxy('london-1', 'london'), proxy('london-2', 'london', '17.4.8'), proxy('london-3', 'london')] });
  const p = plan({}, f, { 'london-1': 5 });
  const tokyo = region(p, 'tokyo');
  assert.equal(tokyo.window, undefined);
  assert.equal(tokyo.proxies, 0);
  assert.deepEqual(tokyo.skipped.map((s) => s.name), ['tokyo-1', 'tokyo-2']);
  const london = region(p, 'london');
  assert.deepEqual(london.skipped, [{ name: 'london-2', version: '17.4.8' }]);
  assert.deepEqual(proxies(p).map((x) => x.name), ['london-1', 'london-3']);
  assert.match(london.occurrences[0]?.notices[0]?.message ?? '', /^Teleport proxy london-1, london-3 \(london\)/);
  assert.deepEqual([p.totals.targets, p.totals.upgrading, p.totals.skipped, p.totals.notices], [5, 2, 3, 3]);
  // A missing session count is treated as 0 and flagged.
  assert.deepEqual(p.totals.unknownSessions, ['london-3']);
  assert.equal(proxies(p).find((x) => x.name === 'london-3')?.sessionsKnown, false);
  assert.equal(p.totals.endAt, Math.max(...proxies(p).map((x) => x.backAt)));
  assert.equal(p.totals.durationMs, p.totals.endAt - NOW);
});

test('planRolloutChecked refuses a spec the controller would refuse, before planning', () => {
  const f = fleet();
  const noWindow: ProxyFleetSpec = { ...f, regions: f.regions.map((r) => (r.name === 'london' ? { ...r, maintenanceWindows: [] } : r)) };
  const r = planRolloutChecked({ rollout: ROLLOUT, spec: { version: '17.4.8' }, fleet: noWindow, sessions: new Map(), now: NOW, scrapeIntervalMs: SCRAPE });
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.error.map((e) => e.message).join('\n'), /region "london" has no maintenance window that ever opens/);
  const good = planRolloutChecked({ rollout: ROLLOUT, spec: { version: '17.4.8' }, fleet: f, sessions: new Map(), now: NOW, scrapeIntervalMs: SCRAPE });
  assert.equal(good.ok, true);
  if (good.ok) assert.deepEqual(good.value.warnings, []);
});

test('the real controller, run over a simulated world, follows the plan: same windows, spill-overs and notices', async () => {
  const windows: MaintenanceWindow[] = [{ days: ['Sat'], start: '02:00', duration: '1h' }];
  const f = fleet({ windows, proxies: [proxy('tokyo-1', 'tokyo'), proxy('tokyo-2', 'tokyo'), proxy('tokyo-3', 'tokyo'), proxy('london-1', 'london'), proxy('london-2', 'london')] });
  // Sessions that barely end: every drain runs to its 40 m deadline, in the plan and in the world.
  const spec: ProxyRolloutSpec = { version: '17.4.8', drain: { deadline: '40m' }, notice: { channels: [OPS] } };
  const scrapeMs = 30_000; // the harness scrapes every 30 s
  const p = planRollout({ rollout: ROLLOUT, spec, fleet: f, sessions: new Map(f.proxies.map((x) => [x.name, 1000])), now: NOW, scrapeIntervalMs: scrapeMs });
  const run = await runScenario({ fleet: f, rollout: spec, startAt: NOW, sessions: () => 1000, world: { sessionHalfLifeMs: 100 * HOUR } });
  assert.equal(run.status.phase, 'Completed', run.status.message);

  assert.deepEqual(region(p, 'tokyo').spilled, ['tokyo-3']);
  assert.deepEqual(region(p, 'london').spilled, ['london-1', 'london-2']);
  // The windows the controller ends with are the plan's last occurrences.
  const last = p.waves.flatMap((w) => w.regions.map((r) => r.occurrences[r.occurrences.length - 1]?.window));
  assert.deepEqual(
    run.status.windows?.map((w) => [w.region, w.startAt, w.endAt]),
    p.waves.flatMap((w) => w.regions.map((r) => r.region)).map((r, i) => [r, new Date(last[i]?.startAt ?? 0).toISOString(), new Date(last[i]?.endAt ?? 0).toISOString()]),
  );
  // Every proxy went out in the occurrence the plan put it in, within minutes of the planned time.
  for (const r of p.waves.flatMap((w) => w.regions))
    for (const o of r.occurrences)
      for (const b of o.batches)
        for (const x of b.proxies) {
          const outAt = Date.parse(run.status.proxies?.find((y) => y.name === x.name)?.outAt ?? '');
          assert.ok(outAt >= o.window.startAt && outAt < o.window.endAt, `${x.name} out at ${new Date(outAt).toISOString()}, planned in ${o.window.startUtc}`);
          assert.ok(Math.abs(outAt - x.outAt) <= 5 * MIN, `${x.name}: out at ${new Date(outAt).toISOString()}, planned ${x.outUtc}`);
        }
  // Notices: the ones the plan says are sent, each once on the one channel (London's dropped 1 h and 10 m ones never go out).
  assert.equal(new Set(run.world.notices.map((n) => n.id)).size, p.totals.notices);
  assert.equal(p.totals.notices, 10);
});
