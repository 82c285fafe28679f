import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { stringify } from 'yaml';
import type { CanaryView } from '../../src/admin/canary-schemas.js';
import { signInvite } from '../../src/canary/core/invite-token.js';
import { buildConfig } from '../../src/config.js';
import { compressedTimers, startMeridian } from '../../src/main.js';
import { startFleetSim } from '../../src/sim/index.js';
import { cleanupStack, launchChromium, startWebUi } from '../helpers/browser.js';
import { simFleetManifest } from '../helpers/sim-fleet.js';
import { waitFor } from '../helpers/wait.js';

const GEOIP_DB = fileURLToPath(new URL('../fixtures/geoip/geoip2-city-test.mmdb', import.meta.url));
const LONDON_CLIENT = '81.2.69.10';
const REGIONS = [
  { name: 'tokyo', latitude: 35.68, longitude: 139.69, timeZone: 'Asia/Tokyo' },
  { name: 'london', latitude: 51.51, longitude: -0.13, timeZone: 'Europe/London', default: true },
];
const KEY = 'e2e-canary-key-of-some-length';
const BUILD = '17.4.9-debug.1';
const TIME_FACTOR = 600;
const EVERY_DAY = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/**
 * End to end in headless Chromium: a canary of a debug build runs on london-1 (deployed through
 * the simulator's upgrade hook, time-compressed); a browser opens an invitation link and lands on
 * london-1's page, then follows the login URL again and lands there again; a browser without
 * the invitation never does.
 */
test('an invitation link sends a real browser to the canary proxy, and the login URL keeps it there', { timeout: 120_000 }, async (t) => {
  const defer = cleanupStack(t);
  const browser = await launchChromium(defer);
  const proxies = REGIONS.flatMap((r) => [1, 2].map((i) => ({ name: `${r.name}-${i}`, region: r.name, version: '17.4.2', port: 0 })));
  const sim = await startFleetSim({ proxies, tickMs: 50, timeFactor: TIME_FACTOR, seed: 5, controlPort: 0, startAt: Date.UTC(2026, 0, 6), sessionsPerProxy: 5 });
  defer(() => sim.close());
  const webUi = new Map<string, string>();
  for (const p of proxies) webUi.set(p.name, await startWebUi(defer, p.name));

  const dir = await mkdtemp(join(tmpdir(), 'meridian-e2e-canary-'));
  defer(() => rm(dir, { recursive: true, force: true }));
  const manifests = join(dir, 'manifests');
  await mkdir(manifests);
  await writeFile(join(dir, 'canary.key'), `${KEY}\n`);
  const fleet = simFleetManifest(sim, REGIONS, (name) => webUi.get(name));

  const canary = {
    apiVersion: 'meridian.dev/v1alpha1',
    kind: 'ProxyCanary',
    metadata: { name: 'debug' },
    spec: {
      build: { version: BUILD, debug: true },
      subset: { proxies: ['london-1'] },
      bakeTime: '24h',
      analysisInterval: '1h',
      notice: { leadTimes: ['2m'] },
      drain: { deadline: '2m' },
      maintenanceWindows: { london: [{ days: EVERY_DAY, start: '00:00', duration: '24h' }] },
    },
  };
  await writeFile(join(manifests, 'fleet.yaml'), `${stringify(fleet)}---\n${stringify(canary)}`);
  const config = buildConfig([
    {
      source: 'test',
      values: { manifestDir: manifests, stateDir: join(dir, 'state'), admin: '127.0.0.1:0', public: '127.0.0.1:0', trustedProxies: '127.0.0.1/32', geoipDb: GEOIP_DB, observeInterval: '200ms', observeTimeout: '180ms', canaryKeyFile: join(dir, 'canary.key') },
    },
  ]);
  assert.ok(config.ok, config.ok ? '' : config.error.join('; '));
  const meridian = await startMeridian(config.value, pino({ level: 'silent' }), { runtime: { clock: sim.clock, timers: compressedTimers(TIME_FACTOR) } });
  defer(() => meridian.close());

  await waitFor('the canary to bake on london-1', async () => {
    const v = (await (await fetch(new URL('/api/v1/canaries/default/debug', meridian.adminUrl))).json()) as CanaryView;
    return v.phase === 'Baking' ? v : undefined;
  }, 60_000, 100);
  const canaryOrigin = webUi.get('london-1');

  const invite = signInvite({ canary: 'debug', expiresAt: Math.floor(sim.clock.now() / 1000) + 7 * 86_400 }, KEY);
  // The login listener answers 503 until it has observed the fleet (a busy machine can take longer
  // than the canary to bake): asked from another address, so the browser's own answers are fresh.
  await waitFor('the login listener to route', async () => {
    const res = await fetch(new URL('/', meridian.loginUrl), { redirect: 'manual', headers: { 'X-Forwarded-For': '192.0.2.1' } });
    return res.status === 302 ? true : undefined;
  }, 10_000, 50);
  const context = await browser.newContext({ extraHTTPHeaders: { 'X-Forwarded-For': LONDON_CLIENT } });
  defer(() => context.close());
  const page = await context.newPage();
  const joined = await page.goto(new URL(`/canary/join?t=${invite}`, meridian.loginUrl).href, { waitUntil: 'load', timeout: 10_000 });
  assert.equal(joined?.status(), 200);
  assert.equal(new URL(page.url()).origin, canaryOrigin);
  assert.equal(await (await page.$('h1'))?.textContent(), 'Teleport proxy london-1');

  const again = await page.goto(new URL('/web/cluster/main/nodes', meridian.loginUrl).href, { waitUntil: 'load', timeout: 10_000 });
  assert.equal(again?.request().redirectedFrom()?.url(), new URL('/web/cluster/main/nodes', meridian.loginUrl).href);
  assert.equal(new URL(page.url()).origin, canaryOrigin, 'the login URL keeps the opted-in user on the canary');
  assert.equal(new URL(page.url()).pathname, '/web/cluster/main/nodes');

  // Without the invitation, London users (and unknown addresses, which go to the default region,
  // London) are never sent to the canary: six clients, each its own hash, three visits each. They
  // go to London's other proxy (a scrape that times out on a loaded machine may send a visit to
  // the next region for a cycle; never to the canary).
  for (const ip of [LONDON_CLIENT, '10.0.0.1', '10.0.0.2', '10.0.0.3', '192.168.7.9', '172.16.4.4']) {
    const stranger = await browser.newContext({ extraHTTPHeaders: { 'X-Forwarded-For': ip } });
    defer(() => stranger.close());
    const other = await stranger.newPage();
    const landed: string[] = [];
    for (let i = 0; i < 3; i++) {
      await other.goto(new URL('/', meridian.loginUrl).href, { waitUntil: 'load', timeout: 10_000 });
      landed.push((await (await other.$('h1'))?.textContent()) ?? '');
    }
    assert.ok(!landed.includes('Teleport proxy london-1'), `client ${ip} reached the canary: ${landed.join(', ')}`);
    assert.ok(landed.includes('Teleport proxy london-2'), `client ${ip} went to ${landed.join(', ')}`);
  }
});
