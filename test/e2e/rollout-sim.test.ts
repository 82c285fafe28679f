import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { stringify } from 'yaml';
import type { RolloutView } from '../../src/admin/rollout-schemas.js';
import { buildConfig } from '../../src/config.js';
import { compressedTimers, startMeridian } from '../../src/main.js';
import { startFleetSim } from '../../src/sim/index.js';
import { simFleetManifest } from '../helpers/sim-fleet.js';
import { waitFor } from '../helpers/wait.js';

const REGIONS = [
  { name: 'tokyo', latitude: 35.68, longitude: 139.69, timeZone: 'Asia/Tokyo' },
  { name: 'sydney', latitude: -33.87, longitude: 151.21, timeZone: 'Australia/Sydney' },
  { name: 'london', latitude: 51.51, longitude: -0.13, timeZone: 'Europe/London', default: true },
  { name: 'chicago', latitude: 41.88, longitude: -87.63, timeZone: 'America/Chicago' },
  { name: 'new-york', latitude: 40.71, longitude: -74.01, timeZone: 'America/New_York' },
  { name: 'sao-paulo', latitude: -23.55, longitude: -46.63, timeZone: 'America/Sao_Paulo' },
];
const SECRET = 'e2e-notice-key';
/** Simulated ms per real ms: ten simulated minutes a real second. */
const TIME_FACTOR = 600;

interface ReceivedNotice {
  readonly id: string;
  readonly region: string;
  readonly leadTime: string;
  readonly signed: boolean;
}

/**
 * End to end, time-compressed: the controller upgrades a 12-proxy, 6-region simulated fleet
 * through the simulator's upgrade hook, with notices posted to a local signed-webhook receiver,
 * and ends with every proxy on the new version and back in rotation.
 */
test('a rollout upgrades 12 simulated proxies in 6 regions, telling users first through a signed webhook', { timeout: 120_000 }, async (t) => {
  const cleanups: (() => Promise<unknown>)[] = [];
  t.after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  const received: ReceivedNotice[] = [];
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const expected = `sha256=${createHmac('sha256', SECRET).update(`${String(req.headers['x-meridian-timestamp'])}.${body}`).digest('hex')}`;
      const notice = JSON.parse(body) as { id: string; region: string; leadTime: string };
      received.push({ id: notice.id, region: notice.region, leadTime: notice.leadTime, signed: req.headers['x-meridian-signature'] === expected });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => receiver.close(resolve)));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/notices`;

  const proxies = REGIONS.flatMap((r) => [1, 2].map((i) => ({ name: `${r.name}-${i}`, region: r.name, version: '17.4.2', port: 0 })));
  const sim = await startFleetSim({ proxies, tickMs: 50, timeFactor: TIME_FACTOR, seed: 11, controlPort: 0, startAt: Date.UTC(2026, 0, 2), sessionsPerProxy: 30 });
  cleanups.push(() => sim.close());

  const dir = await mkdtemp(join(tmpdir(), 'meridian-e2e-rollout-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const manifests = join(dir, 'manifests');
  await mkdir(manifests);
  await writeFile(join(dir, 'notice-secret'), `${SECRET}\n`);
  const fleet = simFleetManifest(sim, REGIONS);

  const always = [{ days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'], start: '00:00', duration: '24h' }];
  const rollout = {
    apiVersion: 'meridian.dev/v1alpha1',
    kind: 'ProxyRollout',
    metadata: { name: 'to-17-5' },
    spec: {
      version: '17.5.0',
      maintenanceWindows: Object.fromEntries(REGIONS.map((r) => [r.name, always])),
      notice: { leadTimes: ['10m', '2m'], channels: [{ name: 'audit', type: 'webhook', url: receiverUrl, secretFile: join(dir, 'notice-secret') }] },
      drain: { deadline: '15m' },
      verify: { consecutiveScrapes: 2, timeout: '20m' },
    },
  };
  await writeFile(join(manifests, 'fleet.yaml'), `${stringify(fleet)}---\n${stringify(rollout)}`);
  const config = buildConfig([
    { source: 'test', values: { manifestDir: manifests, stateDir: join(dir, 'state'), admin: '127.0.0.1:0', public: '127.0.0.1:0', observeInterval: '150ms', observeTimeout: '120ms' } },
  ]);
  assert.ok(config.ok, config.ok ? '' : config.error.join('; '));
  const meridian = await startMeridian(config.value, pino({ level: 'silent' }), { runtime: { clock: sim.clock, timers: compressedTimers(TIME_FACTOR) } });
  cleanups.push(() => meridian.close());

  const view = async (): Promise<RolloutView> => (await fetch(new URL('/api/v1/rollouts/default/to-17-5', meridian.adminUrl))).json() as Promise<RolloutView>;
  // While it runs, the login redirect must never send anyone to a proxy the rollout holds out
  // (allowing the moment between the status write and the routing rebuild: one simulated minute).
  const redirectedWhileHeld: string[] = [];
  let heldSamples = 0;
  const done = await waitFor('the rollout to finish', async () => {
    const v = await view();
    for (const p of v.proxies) {
      if (!['OutOfRotation', 'Draining', 'Upgrading', 'Verifying'].includes(p.step) || !p.outAt || sim.clock.now() - Date.parse(p.outAt) < 60_000) continue;
      const nearest = (await (await fetch(new URL(`/nearest?region=${p.region}`, meridian.loginUrl))).json()) as { proxy?: string };
      heldSamples++;
      if (nearest.proxy === p.name && (await view()).proxies.find((x) => x.name === p.name)?.step === p.step) redirectedWhileHeld.push(`${p.name} (${p.step})`);
    }
    return v.phase === 'Completed' || v.phase === 'Failed' ? v : undefined;
  }, 100_000, 100);
  assert.ok(heldSamples > 0, 'the redirect was sampled while proxies were held out');
  assert.deepEqual(redirectedWhileHeld, []);

  assert.equal(done.phase, 'Completed', done.message);
  assert.deepEqual(new Set(done.proxies.map((p) => p.step)), new Set(['Done']));
  const simProxies = (await (await fetch(`${sim.controlUrl}/proxies`)).json()) as { name: string; version: string; inRotation: boolean }[];
  assert.equal(simProxies.length, 12);
  for (const p of simProxies) assert.deepEqual([p.name, p.version, p.inRotation], [p.name, '17.5.0', true]);

  // Two notices per region, each signed, each given its full lead time before the region's first proxy went out.
  assert.equal(new Set(received.map((n) => n.id)).size, 12);
  assert.ok(received.every((n) => n.signed), 'every notice carries a valid signature');
  for (const region of REGIONS) {
    const firstOut = Math.min(...done.proxies.filter((p) => p.region === region.name).map((p) => Date.parse(p.outAt ?? '')));
    for (const [lead, ms] of [['10m', 600_000], ['2m', 120_000]] as const) {
      const n = done.notices.find((x) => x.region === region.name && x.leadTime === lead);
      assert.ok(n?.givenAt && Date.parse(n.givenAt) <= firstOut - ms, `${region.name}: ${lead} notice in time`);
    }
  }
  const metrics = await (await fetch(new URL('/metrics', meridian.adminUrl))).text();
  assert.match(metrics, /meridian_rollout_phase\{rollout="default\/to-17-5",phase="Completed"\} 1/);
  assert.match(metrics, /meridian_rollout_proxies\{rollout="default\/to-17-5",state="Done"\} 12/);
  assert.match(metrics, /meridian_notices_total\{channel="audit",result="sent"\} 12/);
  assert.match(metrics, /meridian_drain_duration_seconds_count 12/);
});
