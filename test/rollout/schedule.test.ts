import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MaintenanceWindow, ProxyFleetSpec } from '../../src/model/fleet.js';
import type { ProxyRolloutNoticeStatus, ProxyRolloutProxyStatus, ProxyRolloutSpec, ProxyRolloutStatus, ProxyStep } from '../../src/model/rollout.js';
import { newDraft } from '../../src/rollout/core/rollout-draft.js';
import { resolveSettings, settingsFor } from '../../src/rollout/core/rollout-settings.js';
import { noticedAt, noticeLeadMs } from '../../src/rollout/core/schedule.js';
import { stepRollout, type RolloutStep } from '../../src/rollout/core/step-rollout.js';
import { metrics, observation } from '../helpers/snapshot-fixture.js';

const MIN = 60_000;
const HOUR = 3_600_000;
/** Thursday 2026-01-01 00:00 UTC. */
const NOW = Date.UTC(2026, 0, 1);
/** Two days ahead of NOW: every notice is still to give when the rollout starts. */
const SATURDAY: MaintenanceWindow[] = [{ days: ['Sat'], start: '02:00', duration: '4h' }];
const HOOK = { method: 'webhook' as const, url: 'https://hooks.example.com/upgrade' };
const SPEC: ProxyRolloutSpec = { version: '17.4.8', notice: { leadTimes: ['10m'] }, drain: { deadline: '20m' } };
const ZONES: Record<string, string> = { tokyo: 'Asia/Tokyo', london: 'Europe/London', chicago: 'America/Chicago' };
const iso = (ms: number): string => new Date(ms).toISOString();

/** Two proxies in each region, in the order given, every one labelled ring=a. */
function fleet(regions: readonly string[] = ['tokyo', 'london', 'chicago']): ProxyFleetSpec {
  return {
    regions: regions.map((name) => ({ name, latitude: 0, longitude: 0, timeZone: ZONES[name] ?? 'UTC', maintenanceWindows: SATURDAY })),
    proxies: regions.flatMap((r) =>
      [1, 2].map((i) => ({ name: `${r}-${i}`, region: r, publicUrl: `https://${r}-${i}.example.com`, diagnosticUrl: `http://127.0.0.1:9/${r}-${i}`, version: '17.4.2', labels: { ring: 'a' }, upgrade: HOOK })),
    ),
  };
}

/** What the observer reports of the full fleet, whatever the fleet spec says now. */
const OBSERVED = new Map(fleet().proxies.map((p) => [p.name, observation(p.name, p.region, { metrics: metrics({ version: '17.4.2' }), lastScrapeAt: iso(NOW) })]));

function step(status: ProxyRolloutStatus, f: ProxyFleetSpec, now: number, spec: ProxyRolloutSpec = SPEC): RolloutStep {
  return stepRollout({ rollout: 'default/upgrade', generation: 1, spec, status, fleet: f, observations: OBSERVED, now });
}

function withSteps(st: ProxyRolloutStatus, steps: Record<string, ProxyStep>, extra: Partial<ProxyRolloutProxyStatus> = {}): ProxyRolloutStatus {
  return { ...st, proxies: (st.proxies ?? []).map((p) => (steps[p.name] ? { ...p, step: steps[p.name] ?? p.step, ...extra } : p)) };
}

const stepsOf = (st: ProxyRolloutStatus) => Object.fromEntries((st.proxies ?? []).map((p) => [p.name, p.step]));
const messageOf = (st: ProxyRolloutStatus, name: string) => st.proxies?.find((p) => p.name === name)?.message;
const withoutLondon = (): ProxyFleetSpec => {
  const f = fleet();
  return { regions: f.regions.filter((r) => r.name !== 'london'), proxies: f.proxies.filter((p) => p.region !== 'london') };
};

// ---------------------------------------------------------------------------------------------
// A notice's lead time comes from the notice, not from how the spec spells it now
// ---------------------------------------------------------------------------------------------

test("a notice's lead time is the one it was planned with: renamed ('1h' to '60m') or dropped from the spec, a late notice still holds its full hour", () => {
  const f = fleet(['tokyo']);
  const windowStart = NOW + 2 * HOUR;
  const givenAt = windowStart - HOUR + 25.5 * MIN;
  const notice: ProxyRolloutNoticeStatus = { id: 'n', region: 'tokyo', leadTime: '1h', windowStartAt: iso(windowStart), dueAt: iso(windowStart - HOUR), message: '', channels: [], givenAt: iso(givenAt) };
  assert.equal(noticeLeadMs(notice), HOUR);
  const status = { startedAt: iso(NOW), windows: [{ region: 'tokyo', startAt: iso(windowStart), endAt: iso(windowStart + 4 * HOUR) }], notices: [notice], proxies: [] };
  for (const leadTimes of [['1h'], ['60m'], ['10m'], ['2h']]) {
    const spec: ProxyRolloutSpec = { ...SPEC, notice: { leadTimes } };
    const d = newDraft({ rollout: 'default/upgrade', now: windowStart, settings: resolveSettings(spec, f), fleet: f, observations: OBSERVED }, status);
    assert.equal(noticedAt(d, 'tokyo'), givenAt + HOUR, `spec lead times ${leadTimes.join(', ')}`);
  }
});

// ---------------------------------------------------------------------------------------------
// Waves of a running rollout, and proxies that leave it
// ---------------------------------------------------------------------------------------------

test('a running rollout keeps the waves its proxies were numbered in; before the start they come from the spec and the fleet', () => {
  const started = step({}, fleet(), NOW).status;
  const reordered = fleet(['chicago', 'tokyo']);
  assert.deepEqual(resolveSettings(SPEC, reordered).waves, [['chicago-1', 'chicago-2'], ['tokyo-1', 'tokyo-2']]);
  assert.deepEqual(settingsFor(SPEC, reordered, started).waves, [['tokyo-1', 'tokyo-2'], ['london-1', 'london-2'], ['chicago-1', 'chicago-2']]);
  assert.deepEqual(settingsFor(SPEC, reordered, {}).waves, [['chicago-1', 'chicago-2'], ['tokyo-1', 'tokyo-2']]);
});

test('a region removed from the fleet: its waiting proxies are skipped with the reason, its notices not given are dropped, and the waves after it go on', () => {
  const started = step({}, fleet(), NOW).status;
  assert.ok(started.notices?.some((n) => n.region === 'london' && !n.givenAt));
  const next = step(started, withoutLondon(), NOW + 1000);
  assert.deepEqual(stepsOf(next.status), { 'tokyo-1': 'Pending', 'tokyo-2': 'Pending', 'london-1': 'Skipped', 'london-2': 'Skipped', 'chicago-1': 'Pending', 'chicago-2': 'Pending' });
  assert.equal(messageOf(next.status, 'london-1'), 'Skipped: region london is no longer in the fleet');
  assert.deepEqual(next.events.filter((e) => e.reason === 'ProxySkipped').map((e) => e.proxy), ['london-1', 'london-2']);
  assert.equal(next.status.notices?.filter((n) => n.region === 'london').length, 0, 'no notice of an upgrade that will not happen');
  assert.equal(next.status.phase, 'Progressing');

  // Tokyo done: the rollout moves on to Chicago's wave, the third of the three it started with.
  const tokyoDone = step(withSteps(next.status, { 'tokyo-1': 'Done', 'tokyo-2': 'Done' }), withoutLondon(), NOW + 2000);
  assert.equal(tokyoDone.status.currentWave, 2);
  assert.match(tokyoDone.status.message ?? '', /^Wave 3\/3: 4\/6 done/);

  const allDone = step(withSteps(tokyoDone.status, { 'chicago-1': 'Done', 'chicago-2': 'Done' }), withoutLondon(), NOW + 3000);
  assert.equal(allDone.status.phase, 'Completed');
  assert.equal(allDone.status.message, '4 of 6 proxies run 17.4.8; skipped: london-1 (region london is no longer in the fleet), london-2 (region london is no longer in the fleet)');
});

test('a proxy of the removed region already out of rotation finishes its steps; the notices its users were given stay on record', () => {
  const started = step({}, fleet(), NOW).status;
  const out: ProxyRolloutStatus = {
    ...withSteps(started, { 'london-1': 'Draining' }, { outAt: iso(NOW), sessionsAtOut: 16 }),
    notices: (started.notices ?? []).map((n) => (n.region === 'london' ? { ...n, givenAt: iso(NOW) } : n)),
  };
  const next = step(out, withoutLondon(), NOW + MIN);
  assert.deepEqual([stepsOf(next.status)['london-1'], stepsOf(next.status)['london-2']], ['Draining', 'Skipped']);
  assert.equal(next.status.notices?.filter((n) => n.region === 'london').length, 1);
  // The drain runs to its deadline and the upgrade is asked for, as for any proxy on its way.
  const later = step(next.status, withoutLondon(), NOW + 21 * MIN);
  assert.deepEqual([stepsOf(later.status)['london-1'], later.action?.kind === 'hook' ? later.action.action : undefined], ['Upgrading', 'upgrade']);
});

test('a proxy that left the fleet, or that the selector no longer picks (labels changed), is skipped with the reason; the rest go on', () => {
  const spec: ProxyRolloutSpec = { ...SPEC, selector: { matchLabels: { ring: 'a' } } };
  const started = step({}, fleet(), NOW, spec).status;
  const f = fleet();
  const cases: [string, ProxyFleetSpec, string][] = [
    ['tokyo-2 removed', { ...f, proxies: f.proxies.filter((p) => p.name !== 'tokyo-2') }, 'Skipped: no longer in the fleet'],
    ['tokyo-2 relabelled', { ...f, proxies: f.proxies.map((p) => (p.name === 'tokyo-2' ? { ...p, labels: { ring: 'b' } } : p)) }, 'Skipped: the rollout no longer selects it'],
  ];
  for (const [what, edited, message] of cases) {
    const next = step(started, edited, NOW + 1000, spec);
    assert.deepEqual([stepsOf(next.status)['tokyo-1'], stepsOf(next.status)['tokyo-2']], ['Pending', 'Skipped'], what);
    assert.equal(messageOf(next.status, 'tokyo-2'), message, what);
    assert.equal(next.status.conditions?.find((c) => c.type === 'Ready')?.reason, 'SpecValid', what);
    // Tokyo still has a proxy waiting: its notice stays, to go out as planned.
    assert.equal(next.status.notices?.filter((n) => n.region === 'tokyo').length, 1, what);
  }
});

test('a paused rollout, or one whose plan changed, moves nothing: the proxies that left it are skipped only once it runs again', () => {
  const started = step({}, fleet(), NOW).status;
  const paused = step(started, withoutLondon(), NOW + 1000, { ...SPEC, paused: true });
  assert.equal(stepsOf(paused.status)['london-1'], 'Pending');
  const replanned = step(started, withoutLondon(), NOW + 1000, { ...SPEC, version: '17.5.0' });
  assert.equal(stepsOf(replanned.status)['london-1'], 'Pending');
  assert.equal(replanned.status.conditions?.find((c) => c.type === 'Ready')?.reason, 'PlanChanged');
  const resumed = step(paused.status, withoutLondon(), NOW + 2000);
  assert.equal(stepsOf(resumed.status)['london-1'], 'Skipped');
});
