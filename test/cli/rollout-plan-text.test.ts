import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MaintenanceWindow, Proxy, ProxyFleetSpec } from '../../src/model/fleet.js';
import type { ProxyRolloutSpec } from '../../src/model/rollout.js';
import { formatPlanErrors, formatRolloutPlan } from '../../src/cli/rollout-plan-text.js';
import { planRollout } from '../../src/rollout/core/plan-rollout.js';
import { fleetSpec } from '../helpers/fleet-fixture.js';

const NOW = Date.UTC(2026, 0, 1); // Thursday
const OPS = { name: 'ops', type: 'webhook' as const, url: 'https://notify.example.com' };
const PAGER = { name: 'pager', type: 'slack' as const, url: 'https://hooks.slack.example.com/x' };

function proxy(name: string, region: string, version = '17.4.2'): Proxy {
  return { name, region, publicUrl: `https://${name}.example.com`, diagnosticUrl: 'http://127.0.0.1:1', version, upgrade: { method: 'webhook', url: 'https://hooks.example.com/u' } };
}

function fleet(windows: MaintenanceWindow[], proxies: Proxy[]): ProxyFleetSpec {
  return { regions: fleetSpec().regions.map((r) => ({ ...r, maintenanceWindows: windows })), proxies };
}

function text(spec: Partial<ProxyRolloutSpec>, f: ProxyFleetSpec, sessions: Record<string, number>): string {
  const plan = planRollout({ rollout: 'default/upgrade', spec: { version: '17.4.8', ...spec }, fleet: f, sessions: new Map(Object.entries(sessions)), now: NOW, scrapeIntervalMs: 15_000 });
  return formatRolloutPlan(plan);
}

const TWO_REGIONS = fleet([{ days: ['Sat', 'Sun'], start: '02:00', duration: '4h' }], [proxy('tokyo-1', 'tokyo'), proxy('tokyo-2', 'tokyo'), proxy('london-1', 'london'), proxy('london-2', 'london')]);

test('the timeline of a two-region fleet: windows, notices, batches and totals in local and UTC time', () => {
  const out = text({ notice: { channels: [OPS, PAGER] } }, TWO_REGIONS, { 'tokyo-1': 120, 'tokyo-2': 3, 'london-1': 400 });
  const expected = [
    'Rollout plan for default/upgrade: upgrade to 17.4.8, as if started 2026-01-01 00:00 UTC',
    '  4 proxies in 2 waves; at most 1 out per region, never the last ready one',
    '  Drain: sessions of 30m on average, deadline 2h',
    '  Upgrade + verify: 3 scrapes x 15s + 30s restart = 1m15s per proxy',
    '  Notices: 24h, 1h, 10m before each window, on ops (webhook), pager (slack)',
    'Wave 1/2 "tokyo": expected 2h57m30s from first out to last back',
    '  Region Tokyo (tokyo), Asia/Tokyo: 2 proxies, expected 2h57m30s of work; 4h window: fits',
    '    Window Sat 2026-01-03 02:00 GMT+9 to 06:00 GMT+9 | 2026-01-02 17:00 UTC to 21:00 UTC (4h)',
    '      Notices on ops, pager:',
    '        24h before  Fri 2026-01-02 02:00 GMT+9 | 2026-01-01 17:00 UTC',
    '        10m before  Sat 2026-01-03 01:50 GMT+9 | 2026-01-02 16:50 UTC',
    '        Message: "Teleport proxy tokyo-1, tokyo-2 (Tokyo) will be upgraded to 17.4.8 in the maintenance',
    '      Batch 1: out Sat 2026-01-03 02:00 GMT+9 | 2026-01-02 17:00 UTC',
    '        tokyo-1    120 sessions  drain 2h (deadline, ~2 cut)   back ~04:01 GMT+9 | 19:01 UTC',
    '      Batch 2: out Sat 2026-01-03 04:01 GMT+9 | 2026-01-02 19:01 UTC',
    '        tokyo-2      3 sessions  drain ~55m                    back ~04:57 GMT+9 | 19:57 UTC',
    'Wave 2/2 "london": expected 2h2m30s from first out to last back',
    '    Window Sat 2026-01-03 02:00 GMT to 06:00 GMT | 2026-01-03 02:00 UTC to 06:00 UTC (4h)',
    '        london-2      ? sessions  no drain                      back ~04:02 GMT | 04:02 UTC',
    'Totals: 4 proxies to upgrade, 0 skipped; 6 notices; 523 sessions open now, ~9 expected cut',
    '  First proxy out 2026-01-02 17:00 UTC; expected end 2026-01-03 04:02 UTC (2d4h2m30s from now)',
    '  ! No session count for london-2: counted as 0',
  ];
  const lines = out.split('\n');
  for (const line of expected) assert.ok(lines.includes(line), `missing line:\n${line}\nin:\n${out}`);
  for (const line of lines) assert.ok(line.length <= 110, `too long (${line.length}): ${line}`);
  assert.doesNotMatch(out, /\x1b\[/, 'no colours');
});

test('a region that does not fit its window gets a warning naming the proxies and the later window', () => {
  const f = fleet([{ days: ['Sat'], start: '02:00', duration: '1h' }], [proxy('tokyo-1', 'tokyo'), proxy('tokyo-2', 'tokyo'), proxy('tokyo-3', 'tokyo'), proxy('london-1', 'london'), proxy('london-2', 'london')]);
  const out = text({ drain: { deadline: '40m' } }, f, { 'tokyo-1': 1000, 'tokyo-2': 1000, 'tokyo-3': 1000, 'london-1': 0, 'london-2': 0 });
  const lines = out.split('\n');
  for (const line of [
    '  Region Tokyo (tokyo), Asia/Tokyo: 3 proxies, expected 2h3m45s of work; 1h window: does not fit',
    '      ! Replaced by the window at Sat 2026-01-10 02:00 GMT+9: it closes with proxies left',
    '    Next window Sat 2026-01-10 02:00 GMT+9 to 03:00 GMT+9 | 2026-01-09 17:00 UTC to 18:00 UTC (1h)',
    '    ! 1 proxy spills over to a later window (Sat 2026-01-10 02:00 GMT+9 | 2026-01-09 17:00 UTC): tokyo-3',
    '      No proxy goes out in this window',
    '      ! Replaced by the window at Sat 2026-01-10 02:00 GMT: an earlier wave moved to a later window',
    '        1h before   Sat 2026-01-03 01:00 GMT | 2026-01-03 01:00 UTC  (dropped: window replaced)',
    '  ! Regions that do not fit their first window: tokyo, london',
  ])
    assert.ok(lines.includes(line), `missing line:\n${line}\nin:\n${out}`);
  assert.match(out, /Note: the last proxy is expected back \S+ after its window closes \(a drain under way may finish\)/);
  assert.match(out, /Message: "Teleport proxy tokyo-3 \(Tokyo\) will be upgraded/);
});

test('notices without channels, a different message per lead time, and skipped proxies', () => {
  const f = fleet([{ days: ['Sat'], start: '02:00', duration: '4h' }], [proxy('tokyo-1', 'tokyo', '17.4.8'), proxy('tokyo-2', 'tokyo', '17.4.8'), proxy('london-1', 'london'), proxy('london-2', 'london', 'v17.4.8')]);
  const out = text({ notice: { leadTimes: ['2h', '15m'], message: '{proxies} go down in {leadTime} at {localTime}' } }, f, { 'london-1': 0 });
  const lines = out.split('\n');
  for (const line of [
    '  Notices: 2h, 15m before each window, logged only (no channels)',
    '  Region Tokyo (tokyo), Asia/Tokyo: nothing to do',
    '    Skipped, already on 17.4.8: tokyo-1, tokyo-2',
    '    Skipped, already on 17.4.8: london-2',
    '      Notices (logged only):',
    '        Message (2h): "london-1 go down in 2h at Sat 2026-01-03 02:00 GMT"',
    '        Message (15m): "london-1 go down in 15m at Sat 2026-01-03 02:00 GMT"',
    'Totals: 1 proxy to upgrade, 3 skipped; 2 notices; 0 sessions open now, ~0 expected cut',
  ])
    assert.ok(lines.includes(line), `missing line:\n${line}\nin:\n${out}`);
});

test('spec problems are listed instead of a plan', () => {
  const out = formatPlanErrors('rollout.yaml', [
    { path: ['spec', 'maintenanceWindows'], message: 'region "london" has no maintenance window that ever opens' },
    { path: ['spec', 'selector', 'proxies', 0], message: 'proxy "x" is not in the fleet' },
  ]);
  assert.equal(
    out,
    'rollout.yaml: spec.maintenanceWindows: region "london" has no maintenance window that ever opens\n' +
      'rollout.yaml: spec.selector.proxies[0]: proxy "x" is not in the fleet\n' +
      '2 problems: nothing planned\n',
  );
});
