import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProxyFleetSpec } from '../../src/model/fleet.js';
import type { ProxyRolloutStatus } from '../../src/model/rollout.js';
import { END_STEPS } from '../../src/rollout/core/schedule.js';
import { fleetSpec } from '../helpers/fleet-fixture.js';
import { runScenario } from './helpers/rollout-harness.js';

const windows = [{ days: ['Sat', 'Sun'] as ('Sat' | 'Sun')[], start: '02:00', duration: '4h' }];
const hook = { method: 'webhook' as const, url: 'https://hooks.example.com/upgrade' };
const THURSDAY = Date.UTC(2026, 0, 1);

function fleet(): ProxyFleetSpec {
  const base = fleetSpec();
  const london2 = { name: 'london-2', region: 'london', publicUrl: 'https://london-2.example.com', diagnosticUrl: 'http://127.0.0.1:4', version: '17.4.2' };
  return { ...base, regions: base.regions.map((r) => ({ ...r, maintenanceWindows: windows })), proxies: [...base.proxies, london2].map((p) => ({ ...p, upgrade: hook })) };
}

test('every unfinished proxy says what it waits for and until when, in the region\'s time and UTC, at every step of a rollout', async () => {
  const seen: ProxyRolloutStatus[] = [];
  const r = await runScenario(
    { fleet: fleet(), rollout: { version: '17.4.8', notice: { leadTimes: ['24h', '10m'] }, drain: { deadline: '30m' } }, startAt: THURSDAY, sessions: () => 40 },
    undefined,
    { afterPass: async (st) => void seen.push(st) },
  );
  assert.equal(r.status.phase, 'Completed', r.status.message);
  for (const st of seen)
    for (const p of st.proxies ?? []) {
      if (END_STEPS.has(p.step)) assert.equal(p.waitingFor, undefined, `${p.name} ${p.step}`);
      else assert.ok(p.waitingFor, `${p.name} in ${p.step} says what it waits for`);
    }
  const waits = (name: string) => seen.flatMap((st) => st.proxies?.filter((p) => p.name === name).map((p) => ({ step: p.step, outAt: p.outAt, ...p.waitingFor })) ?? []);

  // At the start: Tokyo's 24h notice is due on Friday 02:00 Tokyo time (Thursday 17:00 UTC); London waits for Tokyo's wave.
  const first = seen[0]?.proxies ?? [];
  assert.deepEqual(first.find((p) => p.name === 'tokyo-1')?.waitingFor, {
    reason: 'Notice',
    until: '2026-01-01T17:00:00.000Z',
    untilLocal: 'Fri 2026-01-02 02:00 GMT+9',
    message: 'the 24h notice, due at Fri 2026-01-02 02:00 GMT+9 (2026-01-01 17:00 UTC), for the window at Sat 2026-01-03 02:00 GMT+9 (2026-01-02 17:00 UTC)',
  });
  const london = first.find((p) => p.name === 'london-1')?.waitingFor;
  assert.equal(london?.reason, 'Wave');
  assert.match(london?.message ?? '', /^wave 1 \(tokyo\) to finish; then its window at Sat 2026-01-03 02:00 GMT \(2026-01-03 02:00 UTC\)$/);

  // Noticed, before the window: it opens at 02:00 local.
  assert.ok(waits('tokyo-1').some((w) => w.step === 'Noticed' && w.reason === 'Window' && w.message === 'the window opening at Sat 2026-01-03 02:00 GMT+9 (2026-01-02 17:00 UTC)'));
  // Draining: sessions left and the deadline.
  const drain = waits('tokyo-1').find((w) => w.step === 'Draining' && w.reason === 'Drain');
  assert.ok(drain?.outAt);
  assert.equal(drain.until, new Date(Date.parse(drain.outAt) + 30 * 60_000).toISOString());
  assert.match(drain.message ?? '', /^at most \d+ sessions left \(40 when taken out\) to end; drain deadline at Sat 2026-01-03 02:\d\d GMT\+9 \(2026-01-02 17:\d\d UTC\), then the upgrade cuts the rest$/);
  // tokyo-2 waits for maxUnavailable, held by tokyo-1, until (at the latest) tokyo-1's drain deadline.
  const held = waits('tokyo-2').find((w) => w.reason === 'MaxUnavailable');
  assert.ok(held);
  assert.match(held.message ?? '', /^maxUnavailable 1 of tokyo, held by tokyo-1 \((Draining|OutOfRotation)\)/);
  assert.match(held.message ?? '', /the window closes at Sat 2026-01-03 06:00 GMT\+9 \(2026-01-02 21:00 UTC\)$/);
  // Verifying: scrapes in a row, and when it fails.
  assert.ok(waits('tokyo-1').some((w) => w.step === 'Verifying' && w.reason === 'Verification' && /^\d of 3 scrapes in a row ready on 17\.4\.8; fails at /.test(w.message ?? '')));
});

test('a paused rollout says its proxies wait for resume; an aborted one counts upgraded and skipped proxies apart', async () => {
  let paused: ProxyRolloutStatus | undefined;
  let aborted = false;
  const r = await runScenario(
    { fleet: fleet(), rollout: { version: '17.4.8', notice: { leadTimes: ['10m'] }, drain: { deadline: '30m' } }, startAt: THURSDAY, sessions: () => 40 },
    undefined,
    {
      async afterPass(st, store) {
        const steps = (st.proxies ?? []).map((p) => p.step);
        if (!paused && steps.filter((s) => s === 'Done').length === 1) {
          await store.patchSpec('ProxyRollout', 'default', 'upgrade', { paused: true });
          paused = st;
          return;
        }
        if (paused && !aborted && st.phase === 'Paused' && !steps.some((s) => ['OutOfRotation', 'Draining', 'Upgrading', 'Verifying'].includes(s))) {
          assert.deepEqual(st.proxies?.filter((p) => p.step === 'Pending' || p.step === 'Noticed').map((p) => p.waitingFor?.message), [...Array(3)].map(() => 'meridian rollout resume'));
          await store.patchSpec('ProxyRollout', 'default', 'upgrade', { aborted: true, paused: null });
          aborted = true;
        }
      },
    },
  );
  assert.ok(aborted);
  assert.equal(r.status.phase, 'Aborted');
  assert.equal(r.status.message, 'Aborted: 1 of 4 proxies upgraded, 3 skipped');
});
