import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dashboardApp } from './dashboard-fixture.js';

type Hooks = { after: (fn: () => Promise<void>) => void };
const PAUSE = '/api/v1/rollouts/default/upgrade/pause';

async function setup(t: Hooks) {
  const d = await dashboardApp();
  t.after(() => d.app.close());
  const paused = async () => (await d.store.get('ProxyRollout', 'default', 'upgrade'))?.spec.paused === true;
  return { ...d, paused };
}

test('a browser POST from another site is refused with 403 saying why, and the rollout is left as it was', async (t) => {
  const { app, paused } = await setup(t);
  const cases: Record<string, string>[] = [
    { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' },
    // A sibling subdomain is same-site, not same-origin: refused too.
    { 'sec-fetch-site': 'same-site', origin: 'https://other.admin.example' },
    // Browsers without Fetch Metadata: the Origin must name this listener.
    { origin: 'https://evil.example' },
    { origin: 'null' },
  ];
  for (const headers of cases) {
    const res = await app.inject({ method: 'POST', url: PAUSE, headers: { host: 'admin.example:9181', ...headers } });
    assert.equal(res.statusCode, 403, JSON.stringify(headers));
    assert.equal(res.json<{ error: string }>().error, 'Forbidden');
    assert.match(res.json<{ message: string }>().message, /^cross-site request refused: the browser sent it from /);
  }
  assert.equal(await paused(), false);
});

test('the dashboard\'s own POST (same-origin) goes through', async (t) => {
  const { app, paused } = await setup(t);
  const res = await app.inject({ method: 'POST', url: PAUSE, headers: { host: 'admin.example:9181', 'sec-fetch-site': 'same-origin', origin: 'http://admin.example:9181' } });
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(await paused(), true);
});

test('an old browser\'s POST whose Origin names this listener goes through', async (t) => {
  const { app, paused } = await setup(t);
  const res = await app.inject({ method: 'POST', url: PAUSE, headers: { host: '127.0.0.1:9181', origin: 'http://127.0.0.1:9181' } });
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(await paused(), true);
});

test('the CLI and curl (no Origin, no Sec-Fetch-Site) are not browsers: their POST goes through', async (t) => {
  const { app, paused } = await setup(t);
  const res = await app.inject({ method: 'POST', url: PAUSE });
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(await paused(), true);
});

test('reads are not refused whatever site asks (they change nothing)', async (t) => {
  const { app } = await setup(t);
  const res = await app.inject({ method: 'GET', url: '/api/v1/rollouts', headers: { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' } });
  assert.equal(res.statusCode, 200);
});
