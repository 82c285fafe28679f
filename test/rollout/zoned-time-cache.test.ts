import { test } from 'node:test';
import assert from 'node:assert/strict';
import { localTime } from '../../src/rollout/core/zoned-time.js';
import { Prng } from '../../src/sim/prng.js';

/** What Intl says of an instant, read afresh. */
function fromIntl(atMs: number, timeZone: string) {
  const f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', weekday: 'short' });
  const parts = Object.fromEntries(f.formatToParts(atMs).map((p) => [p.type, p.value]));
  return { year: Number(parts['year']), month: Number(parts['month']), day: Number(parts['day']), hour: Number(parts['hour']), minute: Number(parts['minute']), weekday: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(parts['weekday'] ?? '') };
}

test('local time remembered by minute answers as Intl does: any second of a minute, across DST changes, asked again and again', () => {
  const rng = new Prng(7);
  const zones = ['Asia/Tokyo', 'Europe/London', 'America/Chicago', 'America/Sao_Paulo', 'Australia/Lord_Howe', 'Asia/Kolkata', 'Pacific/Chatham'];
  const start = Date.UTC(2026, 0, 1);
  for (let i = 0; i < 3000; i++) {
    const zone = zones[rng.int(zones.length)] ?? 'UTC';
    // Minutes around the year's DST changes come up often: a few thousand minutes, each asked at several seconds.
    const at = start + rng.int(365 * 24 * 60) * 60_000 + rng.int(60_000);
    assert.deepEqual({ ...localTime(at, zone) }, fromIntl(at, zone), `${new Date(at).toISOString()} in ${zone}`);
    const sameMinute = Math.floor(at / 60_000) * 60_000 + rng.int(60_000);
    assert.deepEqual({ ...localTime(sameMinute, zone) }, fromIntl(sameMinute, zone), `${new Date(sameMinute).toISOString()} in ${zone}, asked again`);
  }
  // Before 1970 too (negative instants round down to their minute).
  assert.deepEqual({ ...localTime(-1, 'Europe/London') }, fromIntl(-1, 'Europe/London'));
});
