import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { stringify } from 'yaml';
import type { FleetsResponse, ProblemsResponse, ProxyView } from '../../src/admin/schemas.js';
import { buildConfig, type ConfigInput } from '../../src/config.js';
import { startMeridian } from '../../src/main.js';
import { startFleetSim } from '../../src/sim/index.js';
import { runCli } from '../../src/cli/main.js';
import { capture } from '../helpers/capture-io.js';
import { waitFor } from '../helpers/wait.js';

const REGIONS = [
  { name: 'tokyo', latitude: 35.68, longitude: 139.69, timeZone: 'Asia/Tokyo' },
  { name: 'london', latitude: 51.51, longitude: -0.13, timeZone: 'Europe/London', default: true },
  { name: 'sao-paulo', latitude: -23.55, longitude: -46.63, timeZone: 'America/Sao_Paulo' },
];

/**
 * The simulator plays an external fleet (as real proxies would be) and the controller
 * observes it only through each proxy's diagnostic address.
 */
async function setup(t: { after: (fn: () => Promise<void>) => void }, extra: ConfigInput = {}) {
  // One hook that undoes everything newest first: node:test runs after-hooks in registration
  // order and stops at the first that throws, which could leave Meridian running.
  const cleanups: (() => Promise<unknown>)[] = [];
  t.after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });
  const proxies = REGIONS.flatMap((r) => [1, 2].map((i) => ({ name: `${r.name}-${i}`, region: r.name, version: '17.4.2', port: 0 })));
  const sim = await startFleetSim({ proxies, tickMs: 0, seed: 7, controlPort: 0 });
  cleanups.push(() => sim.close());
  const dir = await mkdtemp(join(tmpdir(), 'meridian-it-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const manifests = join(dir, 'manifests');
  const fleetFile = join(manifests, 'fleet.yaml');
  const fleetDoc = {
    apiVersion: 'meridian.dev/v1alpha1',
    kind: 'ProxyFleet',
    metadata: { name: 'it' },
    spec: {
      regions: REGIONS,
      proxies: sim.proxies.map((p) => ({ name: p.name, region: p.region, publicUrl: `https://${p.name}.example.com`, diagnosticUrl: p.diagnosticUrl, version: '17.4.2' })),
    },
  };
  await import('node:fs/promises').then((fs) => fs.mkdir(manifests));
  await writeFile(fleetFile, stringify(fleetDoc));
  const config = buildConfig([
    { source: 'test', values: { manifestDir: manifests, stateDir: join(dir, 'state'), admin: '127.0.0.1:0', observeInterval: '300ms', observeTimeout: '250ms', ...extra } },
  ]);
  assert.ok(config.ok, config.ok ? '' : config.error.join('; '));
  const meridian = await startMeridian(config.value, pino({ level: 'silent' }));
  cleanups.push(() => meridian.close());
  const api = async <T>(path: string): Promise<T> => (await fetch(new URL(path, meridian.adminUrl))).json() as Promise<T>;
  const proxy = async (name: string): Promise<ProxyView | undefined> =>
    (await api<FleetsResponse>('/api/v1/fleet')).fleets[0]?.regions.flatMap((r) => r.proxies).find((p) => p.name === name);
  const control = (name: string, action: string, body: unknown) =>
    fetch(`${sim.controlUrl}/proxies/${name}/${action}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await waitFor('Meridian to be ready', async () => ((await fetch(new URL('/readyz', meridian.adminUrl))).status === 200 ? true : undefined));
  return { sim, meridian, api, proxy, control, dir, fleetFile, fleetDoc };
}

test('observes every proxy of the fleet and reports them through the API, /metrics and status', async (t) => {
  const { api, meridian, dir } = await setup(t);
  const { fleets } = await waitFor('a Healthy fleet', async () => {
    const r = await api<FleetsResponse>('/api/v1/fleet');
    return r.fleets[0]?.phase === 'Healthy' ? r : undefined;
  });
  const f = fleets[0];
  assert.ok(f);
  assert.deepEqual(f.regions.map((r) => [r.name, r.readyProxies]), [['tokyo', 2], ['london', 2], ['sao-paulo', 2]]);
  for (const p of f.regions.flatMap((r) => r.proxies)) {
    assert.equal(p.up, true, p.name);
    assert.equal(p.version, '17.4.2');
    assert.equal(p.processState, 'ok');
    assert.ok(p.sessionsTotal > 0, `${p.name} has sessions`);
    assert.equal(p.error, null);
  }
  const metrics = await (await fetch(new URL('/metrics', meridian.adminUrl))).text();
  assert.match(metrics, /^meridian_proxy_sessions\{proxy="tokyo-1",region="tokyo",kind="ssh"\} [1-9]\d*$/m);
  assert.match(metrics, /^meridian_proxy_up\{proxy="london-2",region="london"\} 1$/m);
  assert.match(metrics, /^meridian_proxy_info\{proxy="sao-paulo-1",region="sao-paulo",version="17.4.2"\} 1$/m);
  assert.match(metrics, /^meridian_region_sessions\{region="london"\} [1-9]\d*$/m);
  assert.match(metrics, /^process_cpu_user_seconds_total /m);
  const state = JSON.parse(await readFile(join(dir, 'state', 'ProxyFleet', 'default', 'it.json'), 'utf8'));
  assert.equal(JSON.stringify(state).includes('"phase":"Healthy"'), true, 'status persisted in the state directory');
});

test('a proxy that dies or serves garbage is marked with its reason; the others are unaffected', async (t) => {
  const { proxy, control, api } = await setup(t);
  assert.equal((await control('tokyo-1', 'shutdown', { mode: 'immediate' })).status, 200);
  assert.equal((await control('london-1', 'fault', { mode: 'garbage' })).status, 200);
  assert.equal((await control('sao-paulo-1', 'fault', { mode: 'degraded' })).status, 200);
  const down = await waitFor('tokyo-1 marked down', async () => ((await proxy('tokyo-1'))?.error?.reason === 'connection_refused' ? proxy('tokyo-1') : undefined));
  assert.equal(down?.up, false);
  assert.equal(down?.version, '17.4.2', 'what was known before the failure is kept');
  const garbage = await waitFor('london-1 parse error', async () => ((await proxy('london-1'))?.error?.reason === 'parse_error' ? proxy('london-1') : undefined));
  assert.match(garbage?.error?.message ?? '', /127\.0\.0\.1/);
  const degraded = await waitFor('sao-paulo-1 not ready', async () => {
    const p = await proxy('sao-paulo-1');
    return p && !p.ready && p.up ? p : undefined;
  });
  assert.equal(degraded.readyzStatus, 503);
  assert.equal(degraded.processState, 'degraded');
  for (const name of ['tokyo-2', 'london-2', 'sao-paulo-2']) {
    const p = await proxy(name);
    assert.equal(p?.up, true, name);
    assert.equal(p?.ready, true, name);
  }
  // Status follows the snapshot through the reconciler, a moment later.
  const f = await waitFor('a Degraded fleet', async () => {
    const x = (await api<FleetsResponse>('/api/v1/fleet')).fleets[0];
    return x?.phase === 'Degraded' ? x : undefined;
  });
  assert.equal(f?.conditions.find((c) => c.type === 'Observed')?.status, 'False');
});

test('an invalid edit of the fleet is reported and the last valid fleet stays observed', async (t) => {
  const { api, fleetFile, fleetDoc, proxy, meridian } = await setup(t);
  const broken = { ...fleetDoc, spec: { ...fleetDoc.spec, proxies: [{ ...fleetDoc.spec.proxies[0], region: 'mars' }] } };
  await writeFile(fleetFile, stringify(broken));
  const { problems } = await waitFor('the problem to be reported', async () => {
    const r = await api<ProblemsResponse>('/api/v1/problems');
    return r.problems.length ? r : undefined;
  });
  assert.equal(problems[0]?.field, 'spec.proxies[0].region');
  assert.match(problems[0]?.message ?? '', /region "mars" is not defined/);
  assert.ok((problems[0]?.line ?? 0) > 0);
  // The fleet still shows its last valid version; status says the edit was refused.
  const status = capture();
  assert.equal(await runCli(['status', '--server', meridian.adminUrl], status), 0, status.stderr);
  assert.match(status.stdout, new RegExp(`^ {2}${fleetFile}:${problems[0]?.line}:\\d+: spec\\.proxies\\[0\\]\\.region: region "mars" is not defined`, 'm'));
  const before = (await proxy('london-2'))?.lastScrapeAt;
  const after = await waitFor('london-2 to be scraped again', async () => {
    const p = await proxy('london-2');
    return p?.lastScrapeAt !== before ? p : undefined;
  });
  assert.equal(after.up, true);
  assert.equal((await api<FleetsResponse>('/api/v1/fleet')).fleets[0]?.regions.flatMap((r) => r.proxies).length, 6);
});

test('keeps the OIDC connector file redirect_url list in step with the fleet', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-it-oidc-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'okta.yaml');
  await writeFile(file, 'kind: oidc\nversion: v3\nmetadata:\n  name: okta\nspec:\n  client_id: x\n  redirect_url: https://stale.example.com/v1/webapi/oidc/callback\n');
  await setup(t, { oidcConnectorFile: file });
  const text = await waitFor('the connector to be synced', async () => {
    const t2 = await readFile(file, 'utf8');
    return t2.includes('stale') ? undefined : t2;
  });
  for (const name of ['tokyo-1', 'london-2', 'sao-paulo-2']) assert.ok(text.includes(`- https://${name}.example.com/v1/webapi/oidc/callback`), name);
  assert.match(text, /client_id: x/);
});
