import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProxyFleetSpec } from '../../src/model/fleet.js';
import { fleetSpec } from '../helpers/fleet-fixture.js';
import { runScenario } from './helpers/rollout-harness.js';

const hook = { method: 'webhook' as const, url: 'https://hooks.example.com/upgrade' };
const always = [{ days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as ('Mon' | 'Tue' | 'Wed' | 'Thu' | 'Fri' | 'Sat' | 'Sun')[], start: '00:00', duration: '24h' }];
const START = Date.UTC(2026, 0, 1);
const HOLD_ENDS = START + 6 * 3_600_000;

/** London with two proxies (one more than the fixture), every proxy upgradable at any hour. */
function fleet(): ProxyFleetSpec {
  const base = fleetSpec();
  const london2 = { name: 'london-2', region: 'london', publicUrl: 'https://london-2.example.com', diagnosticUrl: 'http://127.0.0.1:4', version: '17.4.2' };
  return { ...base, regions: base.regions.map((r) => ({ ...r, maintenanceWindows: always })), proxies: [...base.proxies, london2].map((p) => ({ ...p, upgrade: hook })) };
}

test('a proxy a canary holds out of rotation counts for the rollout too: London keeps one proxy in rotation until the canary gives it back', async () => {
  const r = await runScenario({
    fleet: fleet(),
    rollout: { version: '17.4.8', selector: { regions: ['london'] }, notice: { leadTimes: ['10m'] }, drain: { deadline: '10m' } },
    startAt: START,
    sessions: () => 10,
    outOfRotation: (now) => (now < HOLD_ENDS ? ['london-2'] : []),
  });
  assert.equal(r.status.phase, 'Completed', r.status.message);
  const outs = r.world.hooks.filter((h) => h.req.action === 'out-of-rotation' && h.tookEffect);
  assert.deepEqual(outs.map((h) => h.req.proxy.name).sort(), ['london-1', 'london-2']);
  // Without the shared count london-1 would have gone out at once, leaving London with no proxy.
  for (const h of outs) assert.ok(h.at >= HOLD_ENDS, `${h.req.proxy.name} went out ${(HOLD_ENDS - h.at) / 60_000} min before the canary gave london-2 back`);
});

test('a noticed proxy another run holds out of rotation waits for it, and its status says so', async () => {
  const waits = new Set<string>();
  const r = await runScenario(
    {
      fleet: fleet(),
      rollout: { version: '17.4.8', selector: { regions: ['london'] }, notice: { leadTimes: ['10m'] }, drain: { deadline: '10m' } },
      startAt: START,
      sessions: () => 10,
      outOfRotation: (now) => (now < HOLD_ENDS ? ['london-1'] : []),
    },
    undefined,
    {
      afterPass: async (status, _store, { clock }) => {
        // After the 10m notice, until the canary gives london-1 back.
        const london1 = status.proxies?.find((p) => p.name === 'london-1');
        if (clock.now() >= START + 10 * 60_000 && clock.now() < HOLD_ENDS && london1?.step === 'Noticed') waits.add(`${london1.waitingFor?.reason}: ${london1.waitingFor?.message}`);
      },
    },
  );
  assert.equal(r.status.phase, 'Completed', r.status.message);
  assert.deepEqual([...waits].map((w) => w.replace(/; the window closes at .*$/, '')), ['OutOfRotationElsewhere: another run (a canary or a rollout) to give it back']);
});
