import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/main.js';
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
