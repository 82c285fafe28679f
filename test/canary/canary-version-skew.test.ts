import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProxyCanaryStatus } from '../../src/model/canary.js';
import type { ProxyFleetSpec } from '../../src/model/fleet.js';
import { canary, canaryFleet, runCanary } from './helpers/run-canary.js';

const BUILD_17 = '17.0.1-debug.1';
const HEALTHY = { connectsPerMinute: 100, connectFailureRatio: { '16.4.6': 0.005, [BUILD_17]: 0.005 } };

/** The canary fleet on 16.4.6, naming its Auth Service. */
function fleet16(): ProxyFleetSpec {
  const f = canaryFleet();
  return { ...f, auth: { diagnosticUrls: ['http://auth.example.com:3000'] }, proxies: f.proxies.map((p) => ({ ...p, version: '16.4.6' })) };
}

const skewOf = (st: ProxyCanaryStatus) => st.conditions?.find((c) => c.type === 'VersionSkewOK');

test('a canary of a 17.x build does not start while the Auth Service runs 16.x; it starts by itself once Auth is upgraded', async () => {
  let passes = 0;
  const r = await runCanary(canary({ build: { version: BUILD_17, debug: true } }), { ...HEALTHY, auth: { version: '16.4.6' } }, {
    fleet: fleet16(),
    afterPass: (st, world) => {
      if (world.auth?.version !== '16.4.6') return;
      assert.equal(st.phase, 'Pending');
      assert.equal(st.startedAt, undefined, 'the canary did not start');
      assert.equal(st.proxies, undefined, 'no proxy chosen');
      assert.match(st.message ?? '', /^Not started: version skew: 17\.0\.1-debug\.1 is a newer major version than the Auth Service \(16\.4\.6\): upgrade the Auth Service first/);
      assert.deepEqual([skewOf(st)?.status, skewOf(st)?.reason], ['False', 'VersionSkew']);
      assert.equal(world.hooks.length + world.notices.length, 0);
      if (++passes === 20) world.auth = { version: '17.0.3' };
    },
  });
  assert.equal(passes, 20);
  assert.equal(r.status.phase, 'Promoted', r.status.message);
  assert.deepEqual([skewOf(r.status)?.status, skewOf(r.status)?.reason], ['True', 'Compatible']);
});

test('a canary whose Auth Service version is unknown waits: at the start, and in its deploy run when the version is lost after the start', async () => {
  let sawStartWait = false;
  let sawDeployWait = false;
  const r = await runCanary(canary({ build: { version: BUILD_17, debug: true } }), { ...HEALTHY, auth: {} }, {
    fleet: fleet16(),
    afterPass: (st, world) => {
      if (!st.startedAt) {
        assert.equal(st.phase, 'Pending');
        assert.match(st.message ?? '', /^Not started: version skew: the Auth Service version is unknown \(http:\/\/auth\.example\.com:3000\/metrics: connection refused\)/);
        assert.deepEqual([skewOf(st)?.status, skewOf(st)?.reason], ['Unknown', 'AuthVersionUnknown']);
        if (!sawStartWait) world.auth = { version: '17.0.3' };
        sawStartWait = true;
        return;
      }
      if (!sawDeployWait && world.auth?.version !== undefined && st.phase === 'Deploying' && !st.deploy) {
        // Started; the Auth Service's page becomes unreadable before the deploy run begins.
        world.auth = {};
        return;
      }
      if (!sawDeployWait && world.auth?.version === undefined && st.phase === 'Deploying') {
        assert.equal(st.deploy?.startedAt, undefined, 'the deploy run did not start');
        assert.match(st.message ?? '', /: Not started: version skew: the Auth Service version is unknown/);
        assert.deepEqual([skewOf(st)?.status, skewOf(st)?.reason], ['Unknown', 'AuthVersionUnknown']);
        assert.equal(world.hooks.length, 0);
        world.auth = { version: '17.0.3' };
        sawDeployWait = true;
      }
    },
  });
  assert.ok(sawStartWait && sawDeployWait);
  assert.equal(r.status.phase, 'Promoted', r.status.message);
});

test('a rollback never waits on the skew rule: the Auth Service\'s version lost mid-canary does not hold the revert', async () => {
  let lostAuth = false;
  const r = await runCanary(canary({ build: { version: BUILD_17, debug: true } }), { connectsPerMinute: 100, connectFailureRatio: { '16.4.6': 0.005, [BUILD_17]: 0.3 }, auth: { version: '17.0.3' } }, {
    fleet: fleet16(),
    afterPass: (st, world) => {
      // Deployed and failing its analysis: the Auth Service's diagnostic address stops answering.
      if (!lostAuth && st.phase === 'Baking') {
        world.auth = {};
        lostAuth = true;
      }
    },
  });
  assert.ok(lostAuth, 'the canary baked');
  assert.equal(r.status.phase, 'RolledBack', r.status.message);
  assert.equal(r.status.revert?.phase, 'Completed', r.status.revert?.message);
});
