import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { runSim } from '../../src/cli/commands/sim.js';
import { capture } from '../helpers/capture-io.js';

const FLEET = {
  apiVersion: 'meridian.dev/v1alpha1',
  kind: 'ProxyFleet',
  metadata: { name: 'one' },
  spec: {
    regions: [{ name: 'new-york', latitude: 40.71, longitude: -74.01, timeZone: 'America/New_York', default: true }],
    proxies: [{ name: 'nyc-1', region: 'new-york', publicUrl: 'https://nyc-1.example.com', diagnosticUrl: 'http://127.0.0.1:0', version: '17.4.2' }],
  },
};

describe('meridian sim --fleet', () => {
  it('takes a manifest file as well as a directory, as its usage line says', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'meridian-sim-cmd-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'fleet.yaml');
    await writeFile(file, stringify(FLEET));
    for (const path of [file, dir]) {
      const io = capture();
      assert.equal(await runSim(['--fleet', path, '--control', '127.0.0.1:0'], io), 0, io.stderr);
      assert.match(io.stdout, /Simulating 1 proxies of ProxyFleet one/);
    }
  });

  it('serves the Auth Service a fleet names, prints the simulated time, and keeps it in --clock-file', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'meridian-sim-cmd-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'fleet.yaml');
    await writeFile(file, stringify({ ...FLEET, spec: { ...FLEET.spec, auth: { diagnosticUrls: ['http://127.0.0.1:0'] } } }));
    const clockFile = join(dir, 'sim-clock.json');
    await writeFile(clockFile, JSON.stringify({ simulatedNow: '2031-06-01T12:00:00.000Z' }));
    const io = capture();
    assert.equal(await runSim(['--fleet', file, '--control', '127.0.0.1:0', '--clock-file', clockFile], io), 0, io.stderr);
    assert.match(io.stdout, /^ {2}Simulated time 2031-06-01T12:00:00\.\d{3}Z, 60x real time/m);
    assert.match(io.stdout, /^ {2}auth +\(Auth\) +http:\/\/127\.0\.0\.1:\d+$/m);
    assert.ok(Date.parse(JSON.parse(await readFile(clockFile, 'utf8')).simulatedNow) >= Date.UTC(2031, 5, 1, 12), 'saved at stop, not earlier');
  });

  it('names a path that does not exist', async () => {
    const io = capture();
    assert.equal(await runSim(['--fleet', '/nonexistent/fleet.yaml'], io), 1);
    assert.match(io.stderr, /--fleet: \/nonexistent\/fleet.yaml: ENOENT/);
  });
});
