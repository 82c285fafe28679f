import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { stringify } from 'yaml';
import type { FleetsResponse } from '../../src/admin/schemas.js';
import { buildConfig } from '../../src/config.js';
import { startMeridian } from '../../src/main.js';
import { startFleetSim } from '../../src/sim/index.js';
import { cleanupStack, launchChromium, startWebUi, type Defer } from '../helpers/browser.js';
import { waitFor } from '../helpers/wait.js';

/**
 * End to end: a real browser opens the login URL, Meridian answers 302 to the proxy it
 * chose, and the browser lands on that proxy's web UI with the deep link intact. The
 * simulator plays each proxy's diagnostic address (what Meridian observes); a tiny local
 * server plays each proxy's web UI (where the browser lands), at the proxy's publicUrl.
 */

const GEOIP_DB = fileURLToPath(new URL('../fixtures/geoip/geoip2-city-test.mmdb', import.meta.url));
const SCREENSHOT_DIR = join(tmpdir(), 'meridian-e2e-screenshots');

const REGIONS = [
  { name: 'tokyo', latitude: 35.68, longitude: 139.69, timeZone: 'Asia/Tokyo' },
  { name: 'sydney', latitude: -33.87, longitude: 151.21, timeZone: 'Australia/Sydney' },
  { name: 'london', latitude: 51.51, longitude: -0.13, timeZone: 'Europe/London', default: true },
  { name: 'sao-paulo', latitude: -23.55, longitude: -46.63, timeZone: 'America/Sao_Paulo' },
] as const;

// Addresses and their coordinates in the fixture database (test/fixtures/geoip/generate.pl).
const TOKYO_CLIENT = { ip: '133.11.0.7', latitude: 35.6895, longitude: 139.6917 };
const LONDON_CLIENT = { ip: '81.2.69.10' };

const DEEP_LINK = '/web/cluster/main/nodes?sort=name';

/** The test's own oracle for "nearest", independent of Meridian's chooser. */
function haversineKm(a: { latitude: number; longitude: number }, b: { latitude: number; longitude: number }): number {
  const rad = (d: number): number => (d * Math.PI) / 180;
  const h = Math.sin(rad(b.latitude - a.latitude) / 2) ** 2 + Math.cos(rad(a.latitude)) * Math.cos(rad(b.latitude)) * Math.sin(rad(b.longitude - a.longitude) / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.sqrt(h));
}

async function setup(defer: Defer) {
  const browser = await launchChromium(defer);

  const proxies = REGIONS.flatMap((r) => [1, 2].map((i) => ({ name: `${r.name}-${i}`, region: r.name, version: '17.4.2', port: 0 })));
  const sim = await startFleetSim({ proxies, tickMs: 0, seed: 7, controlPort: 0 });
  defer(() => sim.close());
  const webUi = new Map<string, string>();
  for (const p of proxies) webUi.set(p.name, await startWebUi(defer, p.name));

  const dir = await mkdtemp(join(tmpdir(), 'meridian-e2e-'));
  defer(() => rm(dir, { recursive: true, force: true }));
  const manifests = join(dir, 'manifests');
  await mkdir(manifests);
  await writeFile(
    join(manifests, 'fleet.yaml'),
    stringify({
      apiVersion: 'meridian.dev/v1alpha1',
      kind: 'ProxyFleet',
      metadata: { name: 'e2e' },
      spec: {
        regions: REGIONS,
        proxies: sim.proxies.map((p) => ({ name: p.name, region: p.region, publicUrl: webUi.get(p.name), diagnosticUrl: p.diagnosticUrl, version: '17.4.2' })),
      },
    }),
  );
  const config = buildConfig([
    {
      source: 'test',
      values: {
        manifestDir: manifests,
        stateDir: join(dir, 'state'),
        admin: '127.0.0.1:0',
        public: '127.0.0.1:0',
        trustedProxies: '127.0.0.1/32',
        geoipDb: GEOIP_DB,
        // Not the integration test's 300ms/250ms: with Chromium in the mix, an event-loop stall
        // on a loaded machine makes every scrape of a cycle time out, and one failed scrape
        // takes a proxy out of routing (a 503 for the whole fleet). 900ms rides those out.
        observeInterval: '1s',
        observeTimeout: '900ms',
      },
    },
  ]);
  assert.ok(config.ok, config.ok ? '' : config.error.join('; '));
  const meridian = await startMeridian(config.value, pino({ level: 'silent' }));
  defer(() => meridian.close());
  await waitFor('Meridian to be ready', async () => ((await fetch(new URL('/readyz', meridian.adminUrl))).status === 200 ? true : undefined));
  // Precondition, not the assertion: the whole fleet has been observed up and ready.
  await waitFor('every proxy observed ready', async () => {
    const { fleets } = (await (await fetch(new URL('/api/v1/fleet', meridian.adminUrl))).json()) as FleetsResponse;
    const all = fleets[0]?.regions.flatMap((r) => r.proxies) ?? [];
    return all.length === proxies.length && all.every((p) => p.ready) ? true : undefined;
  });

  const nearest = async (ip: string): Promise<{ region: string; proxy: string; url: string }> => {
    const r = await fetch(new URL('/nearest', meridian.loginUrl), { headers: { 'x-forwarded-for': ip } });
    assert.equal(r.status, 200, `/nearest for ${ip}`);
    return (await r.json()) as { region: string; proxy: string; url: string };
  };
  const shutdown = async (name: string): Promise<void> => {
    const r = await fetch(`${sim.controlUrl}/proxies/${name}/shutdown`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mode: 'immediate' }) });
    assert.equal(r.status, 200, `shutdown ${name}: ${await r.text()}`);
  };

  /** Opens the login deep link in a fresh browser context, as a client at `ip` behind the trusted load balancer. */
  const visit = async (ip: string, shot: string) => {
    const context = await browser.newContext({ extraHTTPHeaders: { 'X-Forwarded-For': ip } });
    try {
      const page = await context.newPage();
      const response = await page.goto(new URL(DEEP_LINK, meridian.loginUrl).href, { waitUntil: 'load', timeout: 10_000 });
      assert.ok(response, 'navigation gave a response');
      const first = response.request().redirectedFrom();
      const redirect = await first?.response();
      await mkdir(SCREENSHOT_DIR, { recursive: true });
      const screenshot = join(SCREENSHOT_DIR, `${shot}.png`);
      await page.screenshot({ path: screenshot, fullPage: true });
      return {
        status: response.status(),
        redirectedFrom: first?.url(),
        redirectStatus: redirect?.status(),
        url: new URL(page.url()),
        // page.$ does not wait: a page without them (Meridian's 503 page) fails the assertions at once.
        heading: (await (await page.$('h1'))?.textContent()) ?? '',
        path: (await (await page.$('#path'))?.textContent()) ?? '',
        screenshot,
      };
    } finally {
      await context.close();
    }
  };

  return { meridian, webUi, nearest, shutdown, visit };
}

interface Landed {
  readonly status: number;
  readonly redirectedFrom: string | undefined;
  readonly redirectStatus: number | undefined;
  readonly url: URL;
  readonly path: string;
}

/** The browser asked the login URL for the deep link, was answered 302, and the deep link survived: same path and query, on the web UI at `origin`. */
function assertLanded(landed: Landed, loginUrl: string, origin: string | undefined): void {
  assert.equal(landed.redirectedFrom, new URL(DEEP_LINK, loginUrl).href, `the login URL answered ${landed.status} without redirecting (${landed.url.href})`);
  assert.equal(landed.redirectStatus, 302);
  assert.equal(landed.status, 200);
  assert.equal(landed.url.origin, origin);
  assert.equal(landed.url.pathname, '/web/cluster/main/nodes');
  assert.equal(landed.url.search, '?sort=name');
  assert.equal(landed.path, DEEP_LINK, 'the proxy was asked for the deep link');
}

test('the login URL sends a real browser to the nearest healthy proxy with the deep link intact', async (t) => {
  const { meridian, webUi, nearest, shutdown, visit } = await setup(cleanupStack(t));
  const routedTo = (ip: string, region: string) => waitFor(`/nearest to send ${ip} to ${region}`, async () => ((await nearest(ip)).region === region ? true : undefined));
  const originOf = (heading: string): string | undefined => webUi.get(heading.replace(/^Teleport proxy /, ''));

  await t.test('a Tokyo address lands on a Tokyo proxy', async (st) => {
    await routedTo(TOKYO_CLIENT.ip, 'tokyo');
    const landed = await visit(TOKYO_CLIENT.ip, 'tokyo');
    st.diagnostic(`screenshot: ${landed.screenshot}`);
    assert.match(landed.heading, /^Teleport proxy tokyo-[12]$/);
    assertLanded(landed, meridian.loginUrl, originOf(landed.heading));
  });

  await t.test('a London address lands on a London proxy', async (st) => {
    await routedTo(LONDON_CLIENT.ip, 'london');
    const landed = await visit(LONDON_CLIENT.ip, 'london');
    st.diagnostic(`screenshot: ${landed.screenshot}`);
    assert.match(landed.heading, /^Teleport proxy london-[12]$/);
    assertLanded(landed, meridian.loginUrl, originOf(landed.heading));
  });

  await t.test('with Tokyo down, a Tokyo address lands on the next-nearest region', async (st) => {
    const [expected] = REGIONS.filter((r) => r.name !== 'tokyo')
      .map((r) => ({ name: r.name, km: haversineKm(TOKYO_CLIENT, r) }))
      .sort((a, b) => a.km - b.km);
    assert.ok(expected);
    await shutdown('tokyo-1');
    await shutdown('tokyo-2');
    const chosen = await waitFor('the redirect to stop choosing Tokyo', async () => {
      const n = await nearest(TOKYO_CLIENT.ip);
      return n.region === 'tokyo' ? undefined : n;
    });
    assert.equal(chosen.region, expected.name, `/nearest names the next-nearest region (${expected.name}, ${Math.round(expected.km)} km)`);

    const landed = await visit(TOKYO_CLIENT.ip, 'tokyo-down');
    st.diagnostic(`screenshot: ${landed.screenshot}`);
    assertLanded(landed, meridian.loginUrl, webUi.get(chosen.proxy));
    assert.doesNotMatch(landed.heading, /tokyo/);
    assert.equal(landed.heading, `Teleport proxy ${chosen.proxy}`, 'the browser lands where /nearest said');
  });
});
