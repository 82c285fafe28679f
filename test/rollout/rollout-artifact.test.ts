import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { ProxyFleetSpec } from '../../src/model/fleet.js';
import type { ProxyRolloutSpec } from '../../src/model/rollout.js';
import { settingsFor } from '../../src/rollout/core/rollout-settings.js';
import { planHash, stepRollout } from '../../src/rollout/core/step-rollout.js';
import { hookRequest } from '../../src/rollout/rollout-payloads.js';
import { fleetSpec } from '../helpers/fleet-fixture.js';
import { observation, metrics } from '../helpers/snapshot-fixture.js';
import { runScenario } from './helpers/rollout-harness.js';

const ARTIFACT = 'https://artifacts.example.com/teleport-ent-17.4.8-linux-amd64.tar.gz';
const hook = { method: 'webhook' as const, url: 'https://hooks.example.com/upgrade' };
const always = [{ days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as ('Mon' | 'Tue' | 'Wed' | 'Thu' | 'Fri' | 'Sat' | 'Sun')[], start: '00:00', duration: '24h' }];

function fleet(): ProxyFleetSpec {
  const base = fleetSpec();
  const london2 = { name: 'london-2', region: 'london', publicUrl: 'https://london-2.example.com', diagnosticUrl: 'http://127.0.0.1:4', version: '17.4.2' };
  return { ...base, regions: base.regions.map((r) => ({ ...r, maintenanceWindows: always })), proxies: [...base.proxies, london2].map((p) => ({ ...p, upgrade: hook })) };
}

test('the plan hash: the artifact is part of the plan, and a spec without one keeps the hash it had before artifacts existed', () => {
  const spec: ProxyRolloutSpec = { version: '17.4.8', image: 'teleport:17.4.8', selector: { regions: ['tokyo'] } };
  const before = createHash('sha256').update(JSON.stringify(['17.4.8', 'teleport:17.4.8', { regions: ['tokyo'] }, null])).digest('hex').slice(0, 16);
  assert.equal(planHash(spec), before);
  assert.notEqual(planHash({ ...spec, artifact: ARTIFACT }), before);
  assert.notEqual(planHash({ ...spec, artifact: ARTIFACT }), planHash({ ...spec, artifact: `${ARTIFACT}.1` }));
});

test('a running rollout keeps the artifact it started with, and refuses a new one in the spec', () => {
  const f = fleet();
  const started = { version: '17.4.8', artifact: ARTIFACT };
  assert.equal(settingsFor({ version: '17.4.8', artifact: 'https://elsewhere.example.com/x.tgz' }, f, started).artifact, ARTIFACT);
  assert.equal(settingsFor({ version: '17.4.8', artifact: ARTIFACT }, f, {}).artifact, ARTIFACT);
  assert.equal(settingsFor({ version: '17.4.8' }, f, {}).artifact, undefined);

  const observations = new Map(f.proxies.map((p) => [p.name, observation(p.name, p.region, { metrics: metrics({ version: '17.4.2' }) })]));
  const now = Date.UTC(2026, 0, 1);
  const first = stepRollout({ rollout: 'default/up', generation: 1, spec: started, status: {}, fleet: f, observations, now });
  assert.equal(first.status.artifact, ARTIFACT);
  const edited = stepRollout({ rollout: 'default/up', generation: 2, spec: { ...started, artifact: `${ARTIFACT}.1` }, status: first.status, fleet: f, observations, now: now + 1000 });
  assert.match(edited.status.message ?? '', /^spec.version, image, artifact, selector or waves changed after the start/);
  assert.equal(edited.status.conditions?.find((c) => c.type === 'Ready')?.reason, 'PlanChanged');
});

test('hook requests carry the started artifact, next to the image', () => {
  const f = fleet();
  const a = { kind: 'hook' as const, id: 'x', proxy: 'tokyo-1', action: 'upgrade' as const, version: '17.4.8' };
  const req = hookRequest({ spec: { version: '17.4.8', image: 'teleport:17.4.8', artifact: 'https://new.example.com/x.tgz' }, status: { artifact: ARTIFACT } }, 'default/up', f, a);
  assert.deepEqual([req?.image, req?.artifact], ['teleport:17.4.8', ARTIFACT]);
  assert.equal(hookRequest({ spec: { version: '17.4.8' } }, 'default/up', f, a)?.artifact, undefined);
});

test('a rollout of an artifact hands it to every upgrade hook', async () => {
  const r = await runScenario({ fleet: fleet(), rollout: { version: '17.4.8', artifact: ARTIFACT, notice: { leadTimes: ['10m'] }, drain: { deadline: '10m' } }, startAt: Date.UTC(2026, 0, 1), sessions: () => 10 });
  assert.equal(r.status.phase, 'Completed', r.status.message);
  assert.equal(r.status.artifact, ARTIFACT);
  const upgrades = r.world.hooks.filter((h) => h.req.action === 'upgrade' && h.tookEffect);
  assert.deepEqual(upgrades.map((h) => [h.req.proxy.name, h.req.artifact]), [['tokyo-1', ARTIFACT], ['tokyo-2', ARTIFACT], ['london-1', ARTIFACT], ['london-2', ARTIFACT]]);
});
