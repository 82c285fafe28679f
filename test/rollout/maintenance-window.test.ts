import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MaintenanceWindow } from '../../src/model/fleet.js';
import { nextWindow } from '../../src/rollout/core/maintenance-window.js';
import { formatLocal, zonedInstant } from '../../src/rollout/core/zoned-time.js';

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
const at = (s: string) => Date.parse(s);
const sat2am: MaintenanceWindow[] = [{ days: ['Sat'], start: '02:00', duration: '4h' }];

test('local wall-clock times become instants in their zone, across daylight-saving changes', () => {
  const cases: [string, [number, number, number, number, number], string][] = [
    ['Asia/Tokyo', [2026, 1, 3, 2, 0], '2026-01-02T17:00:00.000Z'],
    ['Europe/London', [2026, 7, 4, 2, 0], '2026-07-04T01:00:00.000Z'],
    ['America/Chicago', [2026, 1, 3, 1, 0], '2026-01-03T07:00:00.000Z'],
    ['America/Chicago', [2026, 7, 4, 1, 0], '2026-07-04T06:00:00.000Z'],
    // 2026-03-08 02:30 does not exist in Chicago (clocks jump 02:00 → 03:00): the later offset, 03:30 CDT.
    ['America/Chicago', [2026, 3, 8, 2, 30], '2026-03-08T08:30:00.000Z'],
    // 2026-11-01 01:30 happens twice in Chicago: the first one (CDT).
    ['America/Chicago', [2026, 11, 1, 1, 30], '2026-11-01T06:30:00.000Z'],
    ['Australia/Sydney', [2026, 1, 3, 2, 0], '2026-01-02T15:00:00.000Z'],
    ['Asia/Kolkata', [2026, 1, 3, 2, 0], '2026-01-02T20:30:00.000Z'],
  ];
  for (const [zone, [y, mo, d, h, mi], expected] of cases) assert.equal(iso(zonedInstant(y, mo, d, h, mi, zone)), expected, `${zone} ${y}-${mo}-${d} ${h}:${mi}`);
  assert.equal(formatLocal(at('2026-01-02T17:00:00Z'), 'Asia/Tokyo'), 'Sat 2026-01-03 02:00 GMT+9');
});

test('the next window: future, already open, on the right local weekday, and DST-correct', () => {
  const w = (zone: string, from: string, windows = sat2am) => {
    const o = nextWindow(windows, zone, at(from));
    return [iso(o?.startAt), iso(o?.endAt)];
  };
  // Thursday: the coming Saturday 02:00 Tokyo is Friday 17:00 UTC.
  assert.deepEqual(w('Asia/Tokyo', '2026-01-01T00:00:00Z'), ['2026-01-02T17:00:00.000Z', '2026-01-02T21:00:00.000Z']);
  // Inside the window: from now until it closes.
  assert.deepEqual(w('Asia/Tokyo', '2026-01-02T18:15:00Z'), ['2026-01-02T18:15:00.000Z', '2026-01-02T21:00:00.000Z']);
  // Just after it closed: a week later.
  assert.deepEqual(w('Asia/Tokyo', '2026-01-02T21:00:00Z'), ['2026-01-09T17:00:00.000Z', '2026-01-09T21:00:00.000Z']);
  // London in summer is UTC+1.
  assert.deepEqual(w('Europe/London', '2026-07-01T00:00:00Z'), ['2026-07-04T01:00:00.000Z', '2026-07-04T05:00:00.000Z']);
  // A window across midnight, Friday 22:00 for 6h, found from inside its second half on Saturday.
  assert.deepEqual(w('UTC', '2026-01-03T01:00:00Z', [{ days: ['Fri'], start: '22:00', duration: '6h' }]), ['2026-01-03T01:00:00.000Z', '2026-01-03T04:00:00.000Z']);
  // Two windows: the earlier wins.
  assert.deepEqual(w('UTC', '2026-01-01T00:00:00Z', [...sat2am, { days: ['Thu'], start: '12:00', duration: '1h' }]), ['2026-01-01T12:00:00.000Z', '2026-01-01T13:00:00.000Z']);
});

test('windows that touch are one: every day 00:00 for 24h never closes within the search', () => {
  const always: MaintenanceWindow[] = [{ days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'], start: '00:00', duration: '24h' }];
  const o = nextWindow(always, 'America/Sao_Paulo', at('2026-01-02T00:00:00Z'));
  assert.equal(iso(o?.startAt), '2026-01-02T00:00:00.000Z');
  assert.ok(o && o.endAt - o.startAt > 7 * 86_400_000, 'open for more than a week');
  assert.equal(nextWindow([{ days: ['Sat'], start: '02:00', duration: '0s' }], 'UTC', 0), undefined);
});

test('a local time that happens twice is its first occurrence, east of UTC as west; one that never happens keeps moving later', () => {
  const cases: [string, [number, number, number, number, number], string, string][] = [
    // Fall-back overlaps: the first occurrence, still on summer time.
    ['Europe/London', [2026, 10, 25, 1, 30], '2026-10-25T00:30:00.000Z', '01:30 BST, not 01:30 GMT'],
    ['Australia/Sydney', [2026, 4, 5, 2, 30], '2026-04-04T15:30:00.000Z', '02:30 AEDT, not 02:30 AEST'],
    ['America/Chicago', [2026, 11, 1, 1, 30], '2026-11-01T06:30:00.000Z', '01:30 CDT, as before'],
    // Spring-forward gaps: read on the old clock, so later by the gap, as before.
    ['Europe/London', [2026, 3, 29, 1, 30], '2026-03-29T01:30:00.000Z', '02:30 BST'],
    ['Australia/Sydney', [2026, 10, 4, 2, 30], '2026-10-03T16:30:00.000Z', '03:30 AEDT'],
    ['America/Sao_Paulo', [2018, 11, 4, 0, 0], '2018-11-04T03:00:00.000Z', '01:00 -02, midnight never happened'],
    ['America/Chicago', [2026, 3, 8, 2, 30], '2026-03-08T08:30:00.000Z', '03:30 CDT'],
    // A whole skipped date moves to the next day; nextWindow refuses that (below).
    ['Pacific/Apia', [2011, 12, 30, 2, 0], '2011-12-30T12:00:00.000Z', 'Saturday 02:00 +14'],
  ];
  for (const [zone, [y, mo, d, h, mi], expected, why] of cases) assert.equal(iso(zonedInstant(y, mo, d, h, mi, zone)), expected, `${zone} ${y}-${mo}-${d} ${h}:${mi}: ${why}`);
  assert.equal(formatLocal(at('2026-10-25T00:30:00Z'), 'Europe/London'), 'Sun 2026-10-25 01:30 GMT+1');
});

test('a window at a repeated hour opens at its first occurrence', () => {
  const o = nextWindow([{ days: ['Sun'], start: '01:30', duration: '30m' }], 'Europe/London', at('2026-10-22T00:00:00Z'));
  assert.deepEqual([iso(o?.startAt), iso(o?.endAt)], ['2026-10-25T00:30:00.000Z', '2026-10-25T01:00:00.000Z']);
});

test('a date the zone skipped has no occurrence: Pacific/Apia went from Thursday 2011-12-29 to Saturday 2011-12-31', () => {
  const apia = (windows: MaintenanceWindow[], from: string) => {
    const o = nextWindow(windows, 'Pacific/Apia', at(from));
    return [iso(o?.startAt), iso(o?.endAt)];
  };
  // Friday 02:00 does not slide to Saturday 02:00: the next Friday is 2012-01-06 (+14).
  assert.deepEqual(apia([{ days: ['Fri'], start: '02:00', duration: '2h' }], '2011-12-29T14:00:00Z'), ['2012-01-05T12:00:00.000Z', '2012-01-05T14:00:00.000Z']);
  // Saturday's own occurrence is untouched.
  assert.deepEqual(apia([{ days: ['Fri', 'Sat'], start: '02:00', duration: '1h' }], '2011-12-29T14:00:00Z'), ['2011-12-30T12:00:00.000Z', '2011-12-30T13:00:00.000Z']);
  // An occurrence on Thursday that runs across the missing day is still open.
  assert.deepEqual(apia([{ days: ['Thu'], start: '23:00', duration: '26h' }], '2011-12-30T11:00:00Z'), ['2011-12-30T11:00:00.000Z', '2011-12-31T11:00:00.000Z']);
});
