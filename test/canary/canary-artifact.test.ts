import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deploySpec, promotionRollout, revertSpec } from '../../src/canary/core/canary-runs.js';
import { BUILD, canary, canaryFleet, runCanary } from './helpers/run-canary.js';

const ARTIFACT = 'https://artifacts.example.com/teleport-ent-17.4.9-debug.1-linux-amd64.tar.gz';

test('the build artifact goes with the build: deploy and promotion carry it, the revert does not', () => {
  const c = canary({ build: { version: BUILD, image: 'teleport:17.4.9-debug.1', artifact: ARTIFACT, flags: ['--debug'] } });
  const f = canaryFleet();
  const deploy = deploySpec(c.spec, f, ['tokyo-1']);
  assert.deepEqual([deploy.version, deploy.image, deploy.artifact, deploy.flags], [BUILD, 'teleport:17.4.9-debug.1', ARTIFACT, ['--debug']]);
  const revert = revertSpec(c.spec, f, ['tokyo-1'], '17.4.2');
  assert.deepEqual(['image' in revert, 'artifact' in revert, 'flags' in revert, revert.version], [false, false, false, '17.4.2']);
  const promoted = promotionRollout(c).spec;
  assert.deepEqual([promoted.version, promoted.image, promoted.artifact], [BUILD, 'teleport:17.4.9-debug.1', ARTIFACT]);
  assert.equal('artifact' in deploySpec(canary().spec, f, ['tokyo-1']), false);
});

test('a canary of an artifact hands it to the upgrade hooks of the build, and not to those taking it back', async () => {
  const c = canary({ build: { version: BUILD, artifact: ARTIFACT, debug: true, flags: ['--debug'] } });
  const r = await runCanary(c, { connectsPerMinute: 100, connectFailureRatio: { '17.4.2': 0.005, [BUILD]: 0.3 } });
  assert.equal(r.status.phase, 'RolledBack', r.status.message);
  const toBuild = r.world.hooks.filter((h) => h.req.version === BUILD && h.req.action === 'upgrade');
  assert.deepEqual(toBuild.map((h) => [h.req.proxy.name, h.req.artifact]), [['tokyo-1', ARTIFACT], ['london-1', ARTIFACT]]);
  const back = r.world.hooks.filter((h) => h.req.version === '17.4.2' && (h.req.action === 'upgrade' || h.req.action === 'rollback'));
  assert.ok(back.length >= 2);
  assert.ok(back.every((h) => h.req.artifact === undefined));
});

test('a promoted canary of an artifact makes a rollout of that artifact', async () => {
  const c = canary({ build: { version: BUILD, artifact: ARTIFACT } });
  const r = await runCanary(c, { connectsPerMinute: 100, connectFailureRatio: { '17.4.2': 0.005, [BUILD]: 0.005 } });
  assert.equal(r.status.phase, 'Promoted', r.status.message);
  const rollout = await r.store.get('ProxyRollout', 'default', 'debug-promote');
  assert.deepEqual([rollout?.spec.version, rollout?.spec.artifact], [BUILD, ARTIFACT]);
});
