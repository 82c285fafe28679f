import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProxyFleetSpec } from '../../src/model/fleet.js';
import type { ProxyRolloutStatus } from '../../src/model/rollout.js';
import { stepRollout } from '../../src/rollout/core/step-rollout.js';
import { authVersionOf, judgeSkew, skewCondition, type AuthVersion } from '../../src/rollout/core/version-skew-gate.js';
import { fleetSpec } from '../helpers/fleet-fixture.js';
import { metrics, observation } from '../helpers/snapshot-fixture.js';
import { runScenario } from './helpers/rollout-harness.js';

const always = [{ days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as ('Mon' | 'Tue' | 'Wed' | 'Thu' | 'Fri' | 'Sat' | 'Sun')[], start: '00:00', duration: '24h' }];
const hook = { method: 'webhook' as const, url: 'https://hooks.example.com/upgrade' };
const AUTH = { diagnosticUrls: ['http://auth.example.com:3000'] };
const START = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

/** Two proxies in each of two regions on `version`, windows always open; with an Auth Service named unless `auth` is false. */
function fleet(version: string, auth = true): ProxyFleetSpec {
  const base = fleetSpec();
  const london2 = { name: 'london-2', region: 'london', publicUrl: 'https://london-2.example.com', diagnosticUrl: 'http://127.0.0.1:4', version };
  return { ...base, ...(auth ? { auth: AUTH } : {}), regions: base.regions.map((r) => ({ ...r, maintenanceWindows: always })), proxies: [...base.proxies, london2].map((p) => ({ ...p, version, upgrade: hook })) };
}

const condition = (st: ProxyRolloutStatus) => st.conditions?.find((c) => c.type === 'VersionSkewOK');

test('the skew verdict: not checked without an Auth Service, a wait while its version is unknown, else Teleport\'s rule by major', () => {
  const cases: { auth: AuthVersion | undefined; target: string; proxies: string[]; kind: string; status: string; reason: string; says: RegExp }[] = [
    { auth: undefined, target: '17.4.8', proxies: ['17.4.2'], kind: 'unchecked', status: 'Unknown', reason: 'NotChecked', says: /not checked: the fleet names no Auth Service \(spec\.auth\)/ },
    { auth: { unknownBecause: 'connection refused' }, target: '17.4.8', proxies: ['17.4.2'], kind: 'unknown', status: 'Unknown', reason: 'AuthVersionUnknown', says: /Auth Service version is unknown \(connection refused\)/ },
    { auth: { version: '17.4.8' }, target: '17.4.8', proxies: ['17.4.2'], kind: 'ok', status: 'True', reason: 'Compatible', says: /17\.4\.8 with Auth 17\.4\.8: ok/ },
    { auth: { version: '17.4.8' }, target: '17.4.9-debug.1', proxies: ['17.4.2'], kind: 'ok', status: 'True', reason: 'Compatible', says: /ok/ },
    { auth: { version: '16.4.6' }, target: '17.0.1', proxies: ['16.4.6'], kind: 'refused', status: 'False', reason: 'VersionSkew', says: /newer major version than the Auth Service \(16\.4\.6\)/ },
    { auth: { version: '18.0.0' }, target: '16.4.6', proxies: ['17.0.0'], kind: 'refused', status: 'False', reason: 'VersionSkew', says: /more than one major version behind/ },
    { auth: { version: '17.0.0' }, target: '17.0.0', proxies: ['15.4.0'], kind: 'refused', status: 'False', reason: 'VersionSkew', says: /skips major version 16 from a proxy at 15\.4\.0/ },
  ];
  for (const c of cases) {
    const v = judgeSkew(c.target, c.auth, c.proxies);
    assert.equal(v.kind, c.kind, `${c.target} with ${JSON.stringify(c.auth)}`);
    assert.match(v.message, c.says);
    const cond = skewCondition(v, 3);
    assert.deepEqual([cond.type, cond.status, cond.reason, cond.observedGeneration], ['VersionSkewOK', c.status, c.reason, 3]);
  }
});

test('authVersionOf: none when the fleet names no Auth Service; the observer\'s error while the version is unknown', () => {
  const snap = { observedAt: '', proxies: [], auth: { version: '17.4.8', observedAt: '', servers: [] } };
  assert.equal(authVersionOf(fleet('17.4.2', false), snap), undefined);
  assert.deepEqual(authVersionOf(fleet('17.4.2'), snap), { version: '17.4.8' });
  assert.deepEqual(authVersionOf(fleet('17.4.2'), undefined), { unknownBecause: 'not observed yet' });
  assert.deepEqual(authVersionOf(fleet('17.4.2'), { ...snap, auth: { observedAt: '', servers: [], error: { reason: 'timeout', message: 'timed out', at: '' } } }), { unknownBecause: 'timed out' });
});

test('stepRollout: refused or unknown, a rollout does not start and says why; not checked or ok, it starts', () => {
  const f = fleet('16.4.6');
  const observations = new Map(f.proxies.map((p) => [p.name, observation(p.name, p.region, { metrics: metrics({ version: '16.4.6' }) })]));
  const step = (auth: AuthVersion | undefined, fl = f) => stepRollout({ rollout: 'default/up', generation: 2, spec: { version: '17.0.1' }, status: {}, fleet: fl, observations, ...(auth ? { auth } : {}), now: START });
  const refused = step({ version: '16.4.6' });
  assert.equal(refused.status.phase, 'Pending');
  assert.equal(refused.status.startedAt, undefined, 'nothing started');
  assert.match(refused.status.message ?? '', /^Not started: version skew: 17\.0\.1 is a newer major version than the Auth Service \(16\.4\.6\): upgrade the Auth Service first/);
  assert.deepEqual([condition(refused.status)?.status, condition(refused.status)?.reason], ['False', 'VersionSkew']);
  assert.equal(refused.action, undefined);

  const unknown = step({ unknownBecause: 'connection refused' });
  assert.equal(unknown.status.phase, 'Pending');
  assert.equal(unknown.status.startedAt, undefined);
  assert.deepEqual([condition(unknown.status)?.status, condition(unknown.status)?.reason], ['Unknown', 'AuthVersionUnknown']);

  const ok = step({ version: '17.0.3' });
  assert.equal(ok.status.phase, 'Progressing');
  assert.ok(ok.status.startedAt);
  assert.deepEqual([condition(ok.status)?.status, condition(ok.status)?.message], ['True', 'Version skew: 17.0.1 with Auth 17.0.3: ok']);

  const unchecked = step(undefined, fleet('16.4.6', false));
  assert.equal(unchecked.status.phase, 'Progressing');
  assert.deepEqual([condition(unchecked.status)?.status, condition(unchecked.status)?.reason], ['Unknown', 'NotChecked']);
});

test('an Auth Service at 16.x refuses an upgrade to 17.x until Auth is upgraded; then the rollout starts by itself and completes', async () => {
  let upgradedAt = 0;
  const r = await runScenario(
    { fleet: fleet('16.4.6'), rollout: { version: '17.0.1', notice: { leadTimes: ['10m'] }, drain: { deadline: '10m' } }, startAt: START, sessions: () => 5, world: { auth: { version: '16.4.6' } } },
    undefined,
    {
      async afterPass(st, _store, { world, clock }) {
        if (upgradedAt || clock.now() < START + 6 * HOUR) return;
        // Six hours of passes: nothing started, nothing touched.
        assert.equal(st.phase, 'Pending');
        assert.equal(st.startedAt, undefined);
        assert.match(st.message ?? '', /version skew: 17\.0\.1 is a newer major version than the Auth Service \(16\.4\.6\)/);
        assert.equal(condition(st)?.status, 'False');
        assert.equal(world.hooks.length + world.notices.length, 0);
        world.auth = { version: '17.0.1' };
        upgradedAt = clock.now();
      },
    },
  );
  assert.equal(r.status.phase, 'Completed', r.status.message);
  assert.ok(upgradedAt > 0 && Date.parse(r.status.startedAt ?? '') >= upgradedAt, 'started only after the Auth upgrade');
  assert.deepEqual([...r.world.proxies.values()].map((p) => p.version), ['17.0.1', '17.0.1', '17.0.1', '17.0.1']);
  assert.equal(condition(r.status)?.reason, 'Compatible');
});

test('an Auth Service whose version is unknown holds the start; once read, the rollout goes on', async () => {
  let readAt = 0;
  const r = await runScenario(
    { fleet: fleet('17.4.2'), rollout: { version: '17.4.8', notice: { leadTimes: ['10m'] }, drain: { deadline: '10m' } }, startAt: START, sessions: () => 5, world: { auth: {} } },
    undefined,
    {
      async afterPass(st, _store, { world, clock }) {
        if (readAt || clock.now() < START + 3 * HOUR) return;
        assert.equal(st.phase, 'Pending');
        assert.match(st.message ?? '', /Not started: version skew: the Auth Service version is unknown \(http:\/\/auth\.example\.com:3000\/metrics: connection refused\)/);
        assert.deepEqual([condition(st)?.status, condition(st)?.reason], ['Unknown', 'AuthVersionUnknown']);
        assert.equal(world.hooks.length, 0);
        world.auth = { version: '17.4.8' };
        readAt = clock.now();
      },
    },
  );
  assert.equal(r.status.phase, 'Completed', r.status.message);
  assert.ok(readAt > 0 && Date.parse(r.status.startedAt ?? '') >= readAt, 'started only once the Auth version was read');
});

test('checked again before each take-out: a proxy is not taken out while the rule fails, its wait says why, and it goes once Auth allows it', async () => {
  let phase: 'start' | 'refused' | 'unknown' | 'done' = 'start';
  const r = await runScenario(
    { fleet: fleet('16.4.6'), rollout: { version: '17.0.1', notice: { leadTimes: ['10m'] }, drain: { deadline: '10m' } }, startAt: START, sessions: () => 5, world: { auth: { version: '17.0.3' } } },
    undefined,
    {
      async afterPass(st, _store, { world }) {
        if (phase === 'refused' || phase === 'unknown') assert.equal((st.proxies ?? []).filter((p) => p.outAt).length, 0, `no proxy taken out while ${phase}`);
        const waits = (st.proxies ?? []).filter((p) => p.step === 'Noticed' && (p.waitingFor?.reason === 'VersionSkew' || p.waitingFor?.reason === 'AuthVersionUnknown'));
        if (phase === 'start' && st.startedAt) {
          // Started under Auth 17; then an Auth instance at 16 joins (the lowest version counts) before any proxy is out.
          assert.equal(condition(st)?.status, 'True');
          world.auth = { version: '16.4.6' };
          phase = 'refused';
        } else if (phase === 'refused' && waits.length) {
          for (const p of waits) {
            assert.equal(p.waitingFor?.reason, 'VersionSkew', p.name);
            assert.match(p.waitingFor?.message ?? '', /^Teleport's version skew rule to allow 17\.0\.1: 17\.0\.1 is a newer major version than the Auth Service \(16\.4\.6\)/);
          }
          assert.match(st.message ?? '', /no proxy goes out: version skew/);
          assert.deepEqual([condition(st)?.status, condition(st)?.reason], ['False', 'VersionSkew']);
          world.auth = {};
          phase = 'unknown';
        } else if (phase === 'unknown' && waits.length) {
          for (const p of waits) assert.equal(p.waitingFor?.reason, 'AuthVersionUnknown', p.name);
          assert.deepEqual([condition(st)?.status, condition(st)?.reason], ['Unknown', 'AuthVersionUnknown']);
          assert.equal(world.hooks.length, 0, 'no hook called while the rule failed or could not be checked');
          world.auth = { version: '17.0.3' };
          phase = 'done';
        }
      },
    },
  );
  assert.equal(phase, 'done');
  assert.equal(r.status.phase, 'Completed', r.status.message);
  assert.deepEqual([...r.world.proxies.values()].map((p) => p.version), ['17.0.1', '17.0.1', '17.0.1', '17.0.1']);
});
