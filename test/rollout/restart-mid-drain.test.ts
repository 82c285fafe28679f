import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProxyFleetSpec } from '../../src/model/fleet.js';
import type { ProxyRolloutProxyStatus } from '../../src/model/rollout.js';
import { planHash, stepRollout } from '../../src/rollout/core/step-rollout.js';
import { fleetSpec } from '../helpers/fleet-fixture.js';
import { metrics, observation } from '../helpers/snapshot-fixture.js';
import { runScenario, type RunResult } from './helpers/rollout-harness.js';
import type { RolloutWorld } from './helpers/rollout-world.js';

const always = [{ days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as ('Mon' | 'Tue' | 'Wed' | 'Thu' | 'Fri' | 'Sat' | 'Sun')[], start: '00:00', duration: '24h' }];
const hook = { method: 'webhook' as const, url: 'https://hooks.example.com/upgrade' };
const DEADLINE_MS = 30 * 60_000;

function fleet(method: 'webhook' | 'command' = 'webhook'): ProxyFleetSpec {
  const base = fleetSpec();
  const london2 = { name: 'london-2', region: 'london', publicUrl: 'https://london-2.example.com', diagnosticUrl: 'http://127.0.0.1:4', version: '17.4.2' };
  const upgrade = method === 'webhook' ? hook : { method: 'command' as const, command: ['/usr/local/bin/upgrade', '{proxy}', '{version}'] };
  return { ...base, regions: base.regions.map((r) => ({ ...r, maintenanceWindows: always })), proxies: [...base.proxies, london2].map((p) => ({ ...p, upgrade })) };
}

/** Runs the rollout; `disturb` acts on tokyo-1 once, the first time a pass leaves it Draining (and, with `counted`, its sessions counted in the drain). */
async function run(f: ProxyFleetSpec, disturb: (w: RolloutWorld) => void, crash?: { at: number; afterWrite: boolean }, counted = false): Promise<RunResult & { disturbedAt: number }> {
  let disturbedAt = 0;
  const r = await runScenario(
    { fleet: f, rollout: { version: '17.4.8', notice: { leadTimes: ['10m'] }, drain: { deadline: '30m' } }, startAt: Date.UTC(2026, 0, 1), sessions: () => 40 },
    crash,
    {
      async afterPass(st, _store, { world, clock }) {
        const p = st.proxies?.find((x) => x.name === 'tokyo-1');
        if (disturbedAt || p?.step !== 'Draining' || (counted && p.sessionsLeft === undefined)) return;
        disturbedAt = clock.now();
        disturb(world);
      },
    },
  );
  return { ...r, disturbedAt };
}

/** Every upgrade of tokyo-1 that cut sessions came a full drain deadline after its last take-out before the upgrade. */
function assertNoFreshSessionsCut(r: RunResult, disturbedAt: number): void {
  const calls = r.world.hooks.filter((h) => h.req.proxy.name === 'tokyo-1' && h.tookEffect);
  const upgrade = calls.find((h) => h.req.action === 'upgrade');
  assert.ok(upgrade, 'tokyo-1 was upgraded');
  const outs = calls.filter((h) => h.req.action === 'out-of-rotation' && h.at <= upgrade.at);
  const lastOut = outs.at(-1);
  assert.ok(outs.length === 2 && lastOut && lastOut.at >= disturbedAt, 'tokyo-1 was taken out of rotation again after it came back');
  assert.ok(upgrade.sessions === 0 || upgrade.at >= lastOut.at + DEADLINE_MS, `${upgrade.sessions} sessions cut ${(upgrade.at - lastOut.at) / 60_000} min after the second take-out`);
}

const tokyo1 = (r: RunResult): ProxyRolloutProxyStatus | undefined => r.status.proxies?.find((p) => p.name === 'tokyo-1');

test('a proxy whose process restarts mid-drain and comes back into rotation with 38 sessions is taken out again and drained anew, never upgraded over them', async () => {
  const r = await run(fleet(), (w) => w.crashRestart('tokyo-1', { sessions: 38 }));
  assert.equal(r.status.phase, 'Completed', r.status.message);
  assertNoFreshSessionsCut(r, r.disturbedAt);
  // The second out-of-rotation call carries an id of its own: a receiver dropping duplicates still acts on it.
  const ids = r.world.hooks.filter((h) => h.req.proxy.name === 'tokyo-1' && h.req.action === 'out-of-rotation').map((h) => h.req.id);
  assert.equal(new Set(ids).size, 2);
  assert.equal(tokyo1(r)?.takeOuts, 2);
  assert.equal(tokyo1(r)?.sessionsAtOut, 38);
  assert.equal(tokyo1(r)?.step, 'Done');
});

test('a proxy put back in the load balancer mid-drain (no restart: its sessions go up) is taken out again too', async () => {
  const r = await run(
    fleet(),
    (w) => {
      w.rejoin('tokyo-1');
      w.addSessions('tokyo-1', 25);
    },
    undefined,
    true,
  );
  assert.equal(r.status.phase, 'Completed', r.status.message);
  assertNoFreshSessionsCut(r, r.disturbedAt);
  assert.equal(tokyo1(r)?.takeOuts, 2);
});

test('without a load balancer hook, a restart mid-drain starts the drain over with a new deadline', async () => {
  const r = await run(fleet('command'), (w) => w.crashRestart('tokyo-1', { sessions: 38 }));
  assert.equal(r.status.phase, 'Completed', r.status.message);
  const upgrade = r.world.hooks.find((h) => h.req.proxy.name === 'tokyo-1' && h.req.action === 'upgrade' && h.tookEffect);
  assert.ok(upgrade);
  assert.ok(upgrade.sessions === 0 || upgrade.at >= r.disturbedAt + DEADLINE_MS, `${upgrade.sessions} sessions cut ${(upgrade.at - r.disturbedAt) / 60_000} min after the restart`);
  assert.equal(tokyo1(r)?.takeOuts, 2);
  assert.ok(Date.parse(tokyo1(r)?.outAt ?? '') >= r.disturbedAt);
});

test('a restart mid-drain with the controller killed before or after any status write: still taken out again, never upgraded over the new sessions', async () => {
  const clean = await run(fleet(), (w) => w.crashRestart('tokyo-1', { sessions: 38 }));
  for (let at = 1; at <= clean.writes; at += 2)
    for (const afterWrite of [false, true]) {
      const r = await run(fleet(), (w) => w.crashRestart('tokyo-1', { sessions: 38 }), { at, afterWrite });
      assert.equal(r.status.phase, 'Completed', `crash at write ${at}: ${r.status.message ?? ''}`);
      assertNoFreshSessionsCut(r, r.disturbedAt);
    }
});

test('a restart seen in Upgrading before the upgrade was asked for goes back to take-out; once it was asked for, the upgrade goes on', () => {
  const f = fleet();
  const now = Date.UTC(2026, 0, 1, 3);
  const outAt = new Date(now - DEADLINE_MS - 60_000).toISOString();
  const before = new Date(now - 86_400_000).toISOString();
  const upgrading: ProxyRolloutProxyStatus = { name: 'tokyo-1', region: 'tokyo', wave: 0, step: 'Upgrading', fromVersion: '17.4.2', outAt, takeOuts: 1, sessionsAtOut: 40, processStartedAt: before, sessionsLeft: 3, drainedAt: new Date(now - 60_000).toISOString(), sessionsCut: 3 };
  const others: ProxyRolloutProxyStatus[] = f.proxies.filter((p) => p.name !== 'tokyo-1').map((p) => ({ name: p.name, region: p.region, wave: p.region === 'tokyo' ? 0 : 1, step: 'Pending', fromVersion: '17.4.2' }));
  const restartedAt = (now - 30_000) / 1000;
  const observations = new Map(
    f.proxies.map((p) => [p.name, observation(p.name, p.region, { metrics: metrics({ sessions: { ssh: 12, kube_exec: 0, kube_portforward: 0, kube_join: 0, db: 0 }, startTimeSeconds: p.name === 'tokyo-1' ? restartedAt : Date.parse(before) / 1000 }), lastScrapeAt: new Date(now - 5_000).toISOString() })]),
  );
  const ctx = (p: ProxyRolloutProxyStatus) => ({
    rollout: 'default/upgrade',
    generation: 1,
    spec: { version: '17.4.8', drain: { deadline: '30m' } },
    status: { startedAt: new Date(now - 86_400_000).toISOString(), version: '17.4.8', planHash: planHash({ version: '17.4.8', drain: { deadline: '30m' } }), proxies: [p, ...others], windows: [], notices: [] },
    fleet: f,
    observations,
    now,
  });

  const back = stepRollout(ctx(upgrading));
  const p = back.status.proxies?.find((x) => x.name === 'tokyo-1');
  assert.deepEqual([p?.step, p?.takeOuts, p?.sessionsAtOut, p?.outAt, p?.drainedAt], ['OutOfRotation', 2, 12, new Date(now).toISOString(), undefined]);
  assert.deepEqual(back.action && back.action.kind === 'hook' ? [back.action.action, back.action.id] : [], ['out-of-rotation', `default/upgrade/${now - 86_400_000}/tokyo-1/out-of-rotation/17.4.2/take-out-2`]);

  const asked = stepRollout(ctx({ ...upgrading, upgradeRequestedAt: new Date(now - 40_000).toISOString(), hookFailures: 1, retryAt: new Date(now - 1).toISOString() }));
  assert.equal(asked.status.proxies?.find((x) => x.name === 'tokyo-1')?.step, 'Upgrading');
  assert.deepEqual(asked.action && asked.action.kind === 'hook' ? [asked.action.proxy, asked.action.action] : [], ['tokyo-1', 'upgrade']);
});
