import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RoutingResponse } from '../../src/admin/routes/dashboard.js';
import { dashboardApp } from './dashboard-fixture.js';

type Hooks = { after: (fn: () => Promise<void>) => void };

async function setup(t: Hooks, options: Parameters<typeof dashboardApp>[0] = {}) {
  const d = await dashboardApp(options);
  t.after(() => d.app.close());
  return d;
}

function pageSettings(html: string): { live: boolean; changesNeedToken: boolean; history: boolean } {
  const content = /<meta name="meridian-dashboard" content="([^"]*)">/.exec(html)?.[1] ?? '';
  return JSON.parse(content.replace(/&#(\d+);/g, (_m, c: string) => String.fromCharCode(Number(c)))) as { live: boolean; changesNeedToken: boolean; history: boolean };
}

test('/ is the page, never cached and never framed; its files are under a content version, cached for good', async (t) => {
  const { app } = await setup(t);
  const page = await app.inject({ method: 'GET', url: '/' });
  assert.equal(page.statusCode, 200);
  assert.match(String(page.headers['content-type']), /^text\/html/);
  assert.equal(page.headers['cache-control'], 'no-cache');
  assert.match(String(page.headers['content-security-policy']), /frame-ancestors 'none'/);
  assert.deepEqual(pageSettings(page.body), { live: true, changesNeedToken: false, history: false });

  const script = /<script type="module" src="(\/dashboard\/([0-9a-f]{12})\/main\.js)">/.exec(page.body);
  assert.ok(script, 'the page loads its main module from a versioned path');
  const [, mainUrl, version] = script;
  const main = await app.inject({ method: 'GET', url: mainUrl ?? '' });
  assert.equal(main.statusCode, 200);
  assert.match(String(main.headers['content-type']), /^text\/javascript/);
  assert.equal(main.headers['cache-control'], 'public, max-age=31536000, immutable');

  // Every module the page imports, from every module, is served under the same version.
  const seen = new Set<string>();
  const pending = ['main.js'];
  while (pending.length) {
    const file = pending.pop() ?? '';
    if (seen.has(file)) continue;
    seen.add(file);
    const res = await app.inject({ method: 'GET', url: `/dashboard/${version}/${file}` });
    assert.equal(res.statusCode, 200, `${file} is served`);
    for (const m of res.body.matchAll(/from '\.\/([\w-]+\.js)'/g)) pending.push(m[1] ?? '');
  }
  assert.ok(seen.size > 5, `the page's modules: ${[...seen].join(', ')}`);
  const css = await app.inject({ method: 'GET', url: `/dashboard/${version}/app.css` });
  assert.equal(css.statusCode, 200);
  assert.match(String(css.headers['content-type']), /^text\/css/);
});

test('an asset asked for under another version is 404, not today\'s content cached for good under an old name', async (t) => {
  const { app } = await setup(t);
  const res = await app.inject({ method: 'GET', url: '/dashboard/000000000000/main.js' });
  assert.equal(res.statusCode, 404);
  assert.equal(res.headers['cache-control'], undefined);
  const traversal = await app.inject({ method: 'GET', url: '/dashboard/000000000000/..%2F..%2Fpackage.json' });
  assert.equal(traversal.statusCode, 404);
});

test('the page knows whether the buttons need a token and whether a change stream is served', async (t) => {
  const { app } = await setup(t, { auth: { admin: [{ name: 'ops', token: 'a'.repeat(32) }], read: [] }, live: false });
  const page = await app.inject({ method: 'GET', url: '/' });
  assert.deepEqual(pageSettings(page.body), { live: false, changesNeedToken: true, history: false });
  const events = await app.inject({ method: 'GET', url: '/api/v1/events' });
  assert.equal(events.statusCode, 404);
});

test('GET /api/v1/routing: each region\'s and proxy\'s routing state, a proxy a rollout drains out of rotation', async (t) => {
  const { app } = await setup(t);
  const res = await app.inject({ method: 'GET', url: '/api/v1/routing' });
  assert.equal(res.statusCode, 200);
  const body = res.json<RoutingResponse>();
  assert.deepEqual(
    body.regions.map((r) => [r.name, r.state, r.proxies.map((p) => `${p.name}:${p.state}`).join(' ')]),
    [
      ['london', 'open', 'london-1:eligible'],
      ['tokyo', 'open', 'tokyo-1:eligible tokyo-2:out_of_rotation'],
    ],
  );
});

test('with read tokens the page and its files open without one (they hold no data); the data still needs a token', async (t) => {
  const { app } = await setup(t, { auth: { admin: [{ name: 'ops', token: 'a'.repeat(32) }], read: [{ name: 'grafana', token: 'r'.repeat(32) }] } });
  const page = await app.inject({ method: 'GET', url: '/' });
  assert.equal(page.statusCode, 200);
  const main = /src="(\/dashboard\/[0-9a-f]{12}\/main\.js)"/.exec(page.body)?.[1] ?? '';
  assert.equal((await app.inject({ method: 'GET', url: main })).statusCode, 200);
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/fleet' })).statusCode, 401);
  assert.equal((await app.inject({ method: 'GET', url: '/api/v1/fleet', headers: { authorization: `Bearer ${'r'.repeat(32)}` } })).statusCode, 200);
});
