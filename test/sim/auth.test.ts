import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import pino from 'pino';
import { parseManifestText } from '../../src/adapters/file-store/index.js';
import { createDiagnosticClient } from '../../src/adapters/teleport/diagnostic-client.js';
import type { ProxyFleet, ProxyFleetSpec } from '../../src/model/fleet.js';
import { checkVersionSkew } from '../../src/model/version-skew.js';
import { simOptionsFromFleet, type AuthView } from '../../src/sim/index.js';
import { control, metric, parseExposition, startSim } from './sim-helpers.js';

const SPEC: ProxyFleetSpec = {
  regions: [{ name: 'tokyo', latitude: 35.68, longitude: 139.69, timeZone: 'Asia/Tokyo' }],
  proxies: [
    { name: 'tokyo-1', region: 'tokyo', publicUrl: 'https://tokyo-1.example.com', diagnosticUrl: 'http://127.0.0.1:0', version: '17.4.2' },
    { name: 'tokyo-2', region: 'tokyo', publicUrl: 'https://tokyo-2.example.com', diagnosticUrl: 'http://127.0.0.1:0', version: '17.4.10' },
  ],
  auth: { diagnosticUrls: ['http://127.0.0.1:0', 'http://127.0.0.1:9'] },
};

async function authPage(url: string) {
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200);
  return parseExposition(await res.text());
}

function buildVersion(page: ReturnType<typeof parseExposition>): string | undefined {
  return page.get('teleport_build_info')?.samples[0]?.labels['version'];
}

test('a fleet that names auth.diagnosticUrls gets an Auth Service at the first, on the newest proxy version, read by the real scrapeAuth', async (t) => {
  const sim = await startSim(t, simOptionsFromFleet(SPEC));
  const url = sim.auth?.diagnosticUrl;
  assert.ok(url, 'the Auth Service is served');
  const page = await authPage(url);
  assert.equal(buildVersion(page), '17.4.10');
  assert.equal(metric(page, 'process_state'), 0);
  assert.equal(page.has('proxy_ssh_sessions_total'), false, 'an Auth Service has no proxy gauges');
  assert.equal((await fetch(`${url}/healthz`)).status, 200);
  assert.equal((await fetch(`${url}/readyz`)).status, 200);

  const client = createDiagnosticClient({ timeoutMs: 2000, maxBodyBytes: 1 << 20, log: pino({ level: 'silent' }) });
  t.after(() => client.close());
  const scraped = await client.scrapeAuth(url);
  assert.ok(scraped.ok, JSON.stringify(scraped));
  assert.equal(scraped.version, '17.4.10');
  assert.equal(scraped.readyzStatus, 200);
});

test('POST /auth/restart sets the Auth version: starting until its startup passes, then ready on the new build', async (t) => {
  const sim = await startSim(t, { ...simOptionsFromFleet(SPEC), startupMs: 20_000 });
  const url = sim.auth?.diagnosticUrl ?? assert.fail('no Auth Service');
  const before = (await control(sim, 'GET', '/auth')).json as AuthView;
  assert.equal(before.version, '17.4.10');

  const r = await control(sim, 'POST', '/auth/restart', { version: '18.0.1' });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal((r.json as AuthView).version, '18.0.1');
  assert.equal((r.json as AuthView).gitref.startsWith('v18.0.1-0-g'), true);
  const starting = await authPage(url);
  assert.equal(buildVersion(starting), '18.0.1');
  assert.equal(metric(starting, 'process_state'), 3);
  assert.equal((await fetch(`${url}/readyz`)).status, 400);

  sim.advance(20_000);
  assert.equal(metric(await authPage(url), 'process_state'), 0);
  assert.equal((await fetch(`${url}/readyz`)).status, 200);
  assert.equal(((await control(sim, 'GET', '/auth')).json as AuthView).processState, 'ok');
});

test('the control API names a bad Auth restart and a fleet without an Auth Service', async (t) => {
  const withAuth = await startSim(t, simOptionsFromFleet(SPEC));
  const bad = await control(withAuth, 'POST', '/auth/restart', { version: 'banana' });
  assert.equal(bad.status, 400);
  assert.equal((bad.json as { field: string }).field, 'version');
  assert.equal((await control(withAuth, 'GET', '/auth/restart')).status, 405);

  const without = await startSim(t);
  assert.equal(without.auth, undefined);
  for (const [method, path] of [['GET', '/auth'], ['POST', '/auth/restart']] as const) {
    const r = await control(without, method, path, method === 'POST' ? { version: '17.4.8' } : undefined);
    assert.equal(r.status, 404, `${method} ${path}`);
    assert.match((r.json as { error: string }).error, /no Auth Service/);
  }
});

test('the demo fleet names its Auth Service, and the demo rollout and canary pass the version skew rule against it', async () => {
  const read = async (path: string) => parseManifestText(await readFile(path, 'utf8'), path).accepted.map((d) => d.resource);
  const fleet = (await read('examples/fleet/fleet.yaml')).find((r): r is ProxyFleet => r.kind === 'ProxyFleet') ?? assert.fail('no demo fleet');
  const auth = simOptionsFromFleet(fleet.spec).auth ?? assert.fail('the demo fleet has no spec.auth');
  assert.equal(auth.port, 7320);
  const proxies = fleet.spec.proxies.map((p) => p.version);
  for (const [path, kind] of [['examples/rollouts/follow-the-sun.yaml', 'ProxyRollout'], ['examples/canaries/debug-build.yaml', 'ProxyCanary']] as const) {
    const doc = (await read(path)).find((r) => r.kind === kind) ?? assert.fail(`no ${kind} in ${path}`);
    const spec = doc.spec as { version?: string; build?: { version: string } };
    const target = spec.version ?? spec.build?.version ?? assert.fail(`no target version in ${path}`);
    assert.deepEqual(checkVersionSkew(target, auth.version, proxies), { ok: true, value: undefined }, path);
  }
});
