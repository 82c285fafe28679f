import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/main.js';
import { renderRollout } from '../../src/cli/rollout-status-text.js';
import { capture } from '../helpers/capture-io.js';


test('rollout plan prints the example rollout timeline for the demo fleet, wave by wave in local and UTC time', async () => {
  const io = capture();
  assert.equal(await runCli(['rollout', 'plan', 'examples/rollouts/follow-the-sun.yaml', '--manifests', 'examples/fleet', '--at', '2026-11-26T09:00:00Z'], io), 0, io.stderr);
  assert.match(io.stdout, /^Rollout plan for default\/follow-the-sun: upgrade to 17\.4\.8, as if started 2026-11-26 09:00 UTC/);
  assert.match(io.stdout, /Wave 1\/3 "asia-pacific"/);
  assert.match(io.stdout, /Window Sat 2026-11-28 02:00 GMT\+9 to 06:00 GMT\+9 \| 2026-11-27 17:00 UTC to 21:00 UTC \(4h\)/);
  assert.match(io.stdout, /Wave 3\/3 "americas"/);
  assert.match(io.stdout, /24h before {2}Fri 2026-11-27 02:00 GMT\+9 \| 2026-11-26 17:00 UTC/);
});

test('rollout plan refuses a rollout that contradicts the fleet, naming the field', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-plan-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'bad.yaml');
  await writeFile(file, (await readFile('examples/rollouts/follow-the-sun.yaml', 'utf8')).replace('regions: [london]', 'regions: [paris]'));
  const io = capture();
  assert.equal(await runCli(['rollout', 'plan', file, '--manifests', 'examples/fleet', '--at', '2026-11-26T09:00:00Z'], io), 1);
  assert.match(io.stderr, /bad\.yaml: spec\.waves\[1\]\.regions\[0\]: region "paris" is not in the fleet/);
  assert.match(io.stderr, /nothing planned/);
});

test('offline, start and abort edit the rollout manifest; a command that makes no sense says why', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-rollout-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'follow-the-sun.yaml');
  await copyFile('examples/rollouts/follow-the-sun.yaml', file);
  const io = capture();
  assert.equal(await runCli(['rollout', 'start', 'follow-the-sun', '--manifests', dir], io), 0, io.stderr);
  assert.match(io.stdout, /start: edited .*follow-the-sun\.yaml \(removed spec\.paused\)/);
  const started = await readFile(file, 'utf8');
  assert.doesNotMatch(started, /paused: true/);
  assert.match(started, /# Upgrade the demo fleet to Teleport 17\.4\.8, following the sun/);
  const again = capture();
  assert.equal(await runCli(['rollout', 'start', 'follow-the-sun', '--manifests', dir], again), 1);
  assert.match(again.stderr, /is not held back \(spec\.paused is not set\): it starts by itself/);
  assert.equal(await runCli(['rollout', 'abort', 'follow-the-sun', '--manifests', dir], capture()), 0);
  assert.match(await readFile(file, 'utf8'), /aborted: true/);
  assert.equal(await runCli(['rollout', 'explode', 'x'], capture()), 2);
});

test('validate checks each rollout against the fleet beside it, and says when there is none', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-validate-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await copyFile('examples/fleet/fleet.yaml', join(dir, 'fleet.yaml'));
  await writeFile(join(dir, 'rollout.yaml'), (await readFile('examples/rollouts/follow-the-sun.yaml', 'utf8')).replace('regions: [london]', 'regions: [london, paris]'));
  const io = capture();
  assert.equal(await runCli(['validate', dir], io), 1);
  assert.match(io.stderr, /rollout\.yaml:\d+:\d+: spec\.waves\[1\]\.regions\[1\]: region "paris" is not in the fleet/);
  const alone = capture();
  assert.equal(await runCli(['validate', 'examples/rollouts'], alone), 0);
  assert.match(alone.stdout, /ProxyRollout follow-the-sun not checked against a fleet \(no ProxyFleet "demo" here\)/);
});

test('rollout status prints what each proxy waits for, drift, and the notices given and to come in local time and UTC', () => {
  const text = renderRollout({
    namespace: 'default',
    name: 'upgrade',
    version: '17.4.8',
    paused: false,
    aborted: false,
    phase: 'Progressing',
    message: 'Wave 1/2: 0/4 done, 1 out of rotation',
    startedAt: '2026-01-01T00:00:00.000Z',
    waves: 2,
    windows: [{ region: 'tokyo', startAt: '2026-01-02T17:00:00.000Z', endAt: '2026-01-02T21:00:00.000Z', timeZone: 'Asia/Tokyo', startLocal: 'Sat 2026-01-03 02:00 GMT+9', endLocal: 'Sat 2026-01-03 06:00 GMT+9' }],
    conditions: [],
    proxies: [
      { name: 'tokyo-1', region: 'tokyo', wave: 0, step: 'Draining', outAt: '2026-01-02T17:00:00.000Z', sessionsAtOut: 40, waitingFor: { reason: 'Drain', until: '2026-01-02T17:30:00.000Z', message: '12 sessions left (40 when taken out) to end; drain deadline at Sat 2026-01-03 02:30 GMT+9 (2026-01-02 17:30 UTC), then the upgrade cuts the rest' } },
      { name: 'tokyo-2', region: 'tokyo', wave: 0, step: 'Noticed', waitingFor: { reason: 'MaxUnavailable', message: 'maxUnavailable 1 of tokyo, held by tokyo-1 (Draining)' } },
    ],
    notices: [
      { id: 'a', region: 'tokyo', leadTime: '24h', windowStartAt: '2026-01-02T17:00:00.000Z', dueAt: '2026-01-01T17:00:00.000Z', dueLocal: 'Fri 2026-01-02 02:00 GMT+9', givenAt: '2026-01-01T17:00:00.000Z', message: 'm', channels: [] },
      { id: 'b', region: 'london', leadTime: '24h', windowStartAt: '2026-01-03T02:00:00.000Z', dueAt: '2026-01-02T02:00:00.000Z', message: 'm', channels: [] },
    ],
  });
  assert.match(text, /tokyo-1 +tokyo +1 +Draining .* waits for 12 sessions left \(40 when taken out\) to end; drain deadline at Sat 2026-01-03 02:30 GMT\+9 \(2026-01-02 17:30 UTC\)/);
  assert.match(text, /tokyo-2 +tokyo +1 +Noticed .* waits for maxUnavailable 1 of tokyo, held by tokyo-1 \(Draining\)/);
  assert.match(text, /tokyo +Sat 2026-01-03 02:00 GMT\+9 → Sat 2026-01-03 06:00 GMT\+9/);
  assert.match(text, /Notices: 1 given, 1 to come/);
  assert.match(text, /tokyo +24h +Fri 2026-01-02 02:00 GMT\+9 \(2026-01-01T17:00:00\.000Z\) +given 2026-01-01T17:00:00\.000Z/);
  assert.match(text, /london +24h +2026-01-02T02:00:00\.000Z +to come/);
  const drifted = renderRollout({ namespace: 'default', name: 'upgrade', version: '17.4.8', paused: false, aborted: false, phase: 'Completed', waves: 1, windows: [], notices: [], proxies: [{ name: 'tokyo-1', region: 'tokyo', wave: 0, step: 'Done', driftedTo: '17.4.2', message: 'Upgraded to 17.4.8' }], conditions: [{ type: 'Drifted', status: 'True', reason: 'VersionDrift', message: '1 proxy no longer runs 17.4.8: tokyo-1 runs 17.4.2', lastTransitionTime: '2026-01-05T00:00:00.000Z' }] });
  assert.match(drifted, /DRIFTED since 2026-01-05T00:00:00\.000Z: 1 proxy no longer runs 17\.4\.8: tokyo-1 runs 17\.4\.2/);
  assert.match(drifted, /Upgraded to 17\.4\.8 \(now runs 17\.4\.2\)/);
});

test('rollout status shows the version skew check: a refusal, a wait for the Auth version, or that it was not checked', () => {
  const view = (status: 'True' | 'False' | 'Unknown', reason: string, message: string) =>
    renderRollout({ namespace: 'default', name: 'upgrade', version: '17.0.1', paused: false, aborted: false, phase: 'Pending', message: 'Not started', waves: 1, windows: [], notices: [], proxies: [], conditions: [{ type: 'VersionSkewOK', status, reason, message, lastTransitionTime: '2026-01-05T00:00:00.000Z' }] });
  assert.match(view('False', 'VersionSkew', 'Version skew: 17.0.1 is a newer major version than the Auth Service (16.4.6)'), /\n {2}REFUSED: Version skew: 17\.0\.1 is a newer major version than the Auth Service \(16\.4\.6\)/);
  assert.match(view('Unknown', 'NotChecked', 'Version skew: not checked: the fleet names no Auth Service (spec.auth)'), /\n {2}Version skew: not checked: the fleet names no Auth Service \(spec\.auth\)/);
});
