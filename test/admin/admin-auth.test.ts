import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { FileStore } from '../../src/adapters/file-store/index.js';
import type { AdminAuth, RouteAccess } from '../../src/admin/auth/admin-auth.js';
import { loadAdminAuth } from '../../src/admin/auth/load-admin-auth.js';
import { readTokenFile } from '../../src/admin/auth/read-token-file.js';
import { parseTokenFile } from '../../src/admin/auth/token-file.js';
import { buildConfig } from '../../src/config.js';
import { adminAppOver } from '../helpers/admin-deps.js';
import { ManualClock } from '../helpers/manual-clock.js';

const ADMIN_TOKEN = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const READ_TOKEN = 'r1b2c3d4e5f60718293a4b5c6d7e8f90';
const AUTH: AdminAuth = { admin: [{ name: 'alice', token: ADMIN_TOKEN }], read: [{ name: 'grafana', token: READ_TOKEN }] };

const ROLLOUT = `apiVersion: meridian.dev/v1alpha1
kind: ProxyRollout
metadata:
  name: demo
spec:
  version: 17.4.8
  paused: true
`;
const CANARY = `apiVersion: meridian.dev/v1alpha1
kind: ProxyCanary
metadata:
  name: demo
spec:
  build: { version: 17.4.9-debug.1 }
  subset: { perRegion: 1 }
  paused: true
`;

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-admin-auth-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The admin app over a rollout and a canary named demo; `audit` collects what the app logs. */
async function setup(t: { after: (fn: () => Promise<void>) => void }, auth: AdminAuth = AUTH) {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'rollout.yaml'), ROLLOUT);
  await writeFile(join(dir, 'canary.yaml'), CANARY);
  const store = new FileStore({ manifestDir: dir, stateDir: join(dir, '.state'), log: pino({ level: 'silent' }), clock: new ManualClock(), watchFiles: false });
  await store.start();
  const audit: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void audit.push(JSON.parse(line) as Record<string, unknown>) });
  const app = await adminAppOver(store, log, auth);
  t.after(async () => {
    await app.close();
    await store.close();
  });
  return { app, store, audit };
}

/** Every concrete request a route can take: each `:param` filled in, one request per value of a listed parameter. */
function requestsOf(route: RouteAccess): string[] {
  let urls = [route.url];
  for (const param of route.url.match(/:[A-Za-z]+/g) ?? []) {
    const values = route.choices[param.slice(1)] ?? [param === ':namespace' ? 'default' : 'demo'];
    urls = urls.flatMap((u) => values.map((v) => u.replace(param, v)));
  }
  return urls;
}

test('every route that changes state refuses a missing or wrong token (401) and a read token (403), and takes the admin token', async (t) => {
  const { app, audit } = await setup(t);
  const changes = app.routeAccess.filter((r) => r.access === 'change');
  // The enumeration is not vacuous: the operators' commands are among the routes found.
  const requests = changes.flatMap((r) => requestsOf(r).map((url) => ({ method: r.method, url })));
  for (const cmd of ['rollouts/default/demo/start', 'rollouts/default/demo/pause', 'rollouts/default/demo/resume', 'rollouts/default/demo/abort', 'canaries/default/demo/start', 'canaries/default/demo/promote', 'canaries/default/demo/rollback'])
    assert.ok(requests.some((r) => r.method === 'POST' && r.url === `/api/v1/${cmd}`), `POST /api/v1/${cmd} is enumerated`);
  assert.ok(app.routeAccess.every((r) => r.access !== 'change' || !['GET', 'HEAD'].includes(r.method)));

  for (const { method, url } of requests) {
    const what = `${method} ${url}`;
    const missing = await app.inject({ method: method as 'POST', url });
    assert.equal(missing.statusCode, 401, what);
    assert.equal(missing.headers['www-authenticate'], 'Bearer realm="meridian-admin"', what);
    const basic = await app.inject({ method: method as 'POST', url, headers: { authorization: `Basic ${Buffer.from(`alice:${ADMIN_TOKEN}`).toString('base64')}` } });
    assert.equal(basic.statusCode, 401, what);
    const wrong = await app.inject({ method: method as 'POST', url, headers: { authorization: 'Bearer not-the-token-0000000000' } });
    assert.equal(wrong.statusCode, 401, what);
    assert.equal(wrong.headers['www-authenticate'], 'Bearer realm="meridian-admin", error="invalid_token"', what);
    assert.doesNotMatch(wrong.body, /not-the-token/, `${what}: the token is not echoed`);
    const malformed = await app.inject({ method: method as 'POST', url, headers: { authorization: 'Bearer "quoted token"' } });
    assert.equal(malformed.statusCode, 400, what);
    assert.equal(malformed.headers['www-authenticate'], 'Bearer realm="meridian-admin", error="invalid_request"', what);
    const reader = await app.inject({ method: method as 'POST', url, headers: { authorization: `Bearer ${READ_TOKEN}` } });
    assert.equal(reader.statusCode, 403, what);
    assert.equal(reader.headers['www-authenticate'], 'Bearer realm="meridian-admin", error="insufficient_scope"', what);
    const right = await app.inject({ method: method as 'POST', url, headers: { authorization: `bearer ${ADMIN_TOKEN}` } });
    assert.ok(![401, 403].includes(right.statusCode), `${what}: ${right.statusCode} ${right.body}`);
    assert.ok(
      audit.some((l) => l['caller'] === 'alice' && l['method'] === method && l['status'] === right.statusCode && JSON.stringify(l['object']).includes('"demo"')),
      `${what}: logged with who and what`,
    );
  }
  assert.ok(!audit.some((l) => JSON.stringify(l).includes(ADMIN_TOKEN) || JSON.stringify(l).includes(READ_TOKEN)), 'no token in the log');
});

test('with the admin token a command changes the object; without it nothing changes', async (t) => {
  const { app, store } = await setup(t);
  assert.equal((await app.inject({ method: 'POST', url: '/api/v1/rollouts/default/demo/start' })).statusCode, 401);
  assert.equal((await store.get('ProxyRollout', 'default', 'demo'))?.spec.paused, true);
  const started = await app.inject({ method: 'POST', url: '/api/v1/rollouts/default/demo/start', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.equal(started.statusCode, 200, started.body);
  assert.equal((await store.get('ProxyRollout', 'default', 'demo'))?.spec.paused, undefined);
});

test('with a read token, reads and /metrics need a token (read or admin); health probes never do', async (t) => {
  const { app } = await setup(t);
  for (const url of ['/api/v1/fleet', '/api/v1/rollouts', '/api/v1/problems', '/metrics']) {
    assert.equal((await app.inject(url)).statusCode, 401, url);
    assert.equal((await app.inject({ url, headers: { authorization: 'Bearer wrong-token-000000000000' } })).statusCode, 401, url);
    assert.equal((await app.inject({ url, headers: { authorization: `Bearer ${READ_TOKEN}` } })).statusCode, 200, url);
    assert.equal((await app.inject({ url, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).statusCode, 200, url);
  }
  for (const url of ['/healthz', '/readyz']) assert.equal((await app.inject(url)).statusCode, 200, url);
});

test('without a read token reads stay open while changes still need the admin token; without any token nothing is asked', async (t) => {
  const writesOnly = await setup(t, { admin: AUTH.admin, read: [] });
  assert.equal((await writesOnly.app.inject('/api/v1/rollouts')).statusCode, 200);
  assert.equal((await writesOnly.app.inject('/metrics')).statusCode, 200);
  assert.equal((await writesOnly.app.inject({ method: 'POST', url: '/api/v1/rollouts/default/demo/start' })).statusCode, 401);
  const open = await setup(t, { admin: [], read: [] });
  assert.equal((await open.app.inject({ method: 'POST', url: '/api/v1/rollouts/default/demo/start' })).statusCode, 200);
  assert.ok(open.audit.some((l) => l['caller'] === 'anonymous' && l['route'] === '/api/v1/rollouts/:namespace/:name/:verb'));
});

test('token files: name:token lines or one bare token named admin, comments; every mistake names file and line, never the token', () => {
  const good = parseTokenFile('# operators\nalice: a1b2c3d4e5f60718293a\n\n  ci-bot:zz1b2c3d4e5f60718293a  \r\n', 'tokens', 'admin');
  assert.deepEqual(good, { ok: true, value: [{ name: 'alice', token: 'a1b2c3d4e5f60718293a' }, { name: 'ci-bot', token: 'zz1b2c3d4e5f60718293a' }] });
  assert.deepEqual(parseTokenFile(`${ADMIN_TOKEN}\n`, 'tokens', 'admin'), { ok: true, value: [{ name: 'admin', token: ADMIN_TOKEN }] });
  const cases: [string, RegExp][] = [
    ['', /^tokens: holds no token/],
    ['# only a comment\n\n', /^tokens: holds no token/],
    ['alice:a1b2c3d4e5f60718293a\nbob:short\n', /^tokens:2: the token of bob is shorter than 16/],
    ['alice:a1b2c3d4e5f6 0718293a\n', /^tokens:1: the token of alice has characters/],
    ['al ice:a1b2c3d4e5f60718293a\n', /^tokens:1: "al ice" is not a token name/],
    ['alice:\n', /^tokens:1: alice has no token/],
    ['alice:a1b2c3d4e5f60718293a\nalice:b1b2c3d4e5f60718293a\n', /^tokens:2: the name alice is already given/],
    ['alice:a1b2c3d4e5f60718293a\nbob:a1b2c3d4e5f60718293a\n', /^tokens:2: bob has the same token as alice/],
  ];
  for (const [text, expected] of cases) {
    const r = parseTokenFile(text, 'tokens', 'admin');
    assert.equal(r.ok, false, text);
    const message = r.ok ? '' : r.error;
    assert.match(message, expected);
    assert.doesNotMatch(message, /a1b2c3d4e5f6/, 'no token in the message');
  }
});

test('a token file that is missing or malformed stops the start naming it; one every user can read is warned about', async (t) => {
  const dir = await tempDir(t);
  const listen = { host: '127.0.0.1', port: 9181 };
  const silent = pino({ level: 'silent' });
  await assert.rejects(loadAdminAuth(listen, { tokenFile: join(dir, 'nope') }, silent), new RegExp(`MERIDIAN_ADMIN_TOKEN_FILE: token file ${join(dir, 'nope')} does not exist`));
  await writeFile(join(dir, 'empty'), '');
  await assert.rejects(loadAdminAuth(listen, { tokenFile: join(dir, 'empty') }, silent), /holds no token/);
  await writeFile(join(dir, 'bad'), `alice:${ADMIN_TOKEN}\nbob\n`, { mode: 0o600 });
  await assert.rejects(loadAdminAuth(listen, { tokenFile: join(dir, 'bad') }, silent), new RegExp(`${join(dir, 'bad')}:2: `));
  await writeFile(join(dir, 'admin'), `alice:${ADMIN_TOKEN}\n`);
  await writeFile(join(dir, 'read'), `${ADMIN_TOKEN}\n`, { mode: 0o600 });
  await assert.rejects(loadAdminAuth(listen, { tokenFile: join(dir, 'admin'), readTokenFile: join(dir, 'read') }, silent), /reader has the name or token of an admin token/);

  await chmod(join(dir, 'admin'), 0o644);
  const open = await readTokenFile(join(dir, 'admin'), 'admin');
  assert.ok(open.ok);
  assert.match(open.value.warning ?? '', /readable by every user of this machine \(mode 644\): chmod 600/);
  await chmod(join(dir, 'admin'), 0o600);
  const closed = await readTokenFile(join(dir, 'admin'), 'admin');
  assert.ok(closed.ok);
  assert.equal(closed.value.warning, undefined);
  const auth = await loadAdminAuth(listen, { tokenFile: join(dir, 'admin') }, silent);
  assert.deepEqual(auth, { admin: [{ name: 'alice', token: ADMIN_TOKEN }], read: [] });
});

test('the admin listener is not bound beyond loopback without a token', async (t) => {
  const r = buildConfig([{ source: 'environment', values: { admin: '0.0.0.0:9181' } }]);
  assert.deepEqual(r.ok ? [] : r.error.filter((e) => e.startsWith('MERIDIAN_ADMIN_ADDR')), [
    'MERIDIAN_ADMIN_ADDR: "0.0.0.0:9181" is not a loopback address; the admin API starts, pauses and aborts rollouts and canaries, so listening beyond loopback needs a token: set MERIDIAN_ADMIN_TOKEN_FILE (meridian start --admin-token-file FILE)',
  ]);
  for (const admin of ['127.0.0.1:9181', '[::1]:9181', 'localhost:9181']) assert.ok(buildConfig([{ source: 'flag', values: { admin } }]).ok, admin);
  assert.ok(buildConfig([{ source: 'flag', values: { admin: '0.0.0.0:9181', adminTokenFile: '/etc/meridian/admin-tokens' } }]).ok);
  const readOnly = buildConfig([{ source: 'flag', values: { adminReadTokenFile: '/etc/meridian/read-tokens' } }]);
  assert.match(readOnly.ok ? '' : (readOnly.error[0] ?? ''), /^--admin-read-token-file: a read token without an admin token/);
  // A config made without buildConfig is refused when the listener would start.
  await assert.rejects(loadAdminAuth({ host: '10.0.0.5', port: 9181 }, {}, pino({ level: 'silent' })), /admin listener 10\.0\.0\.5:9181 is not a loopback address; .*MERIDIAN_ADMIN_TOKEN_FILE/);
  const dir = await tempDir(t);
  await writeFile(join(dir, 'admin'), `${ADMIN_TOKEN}\n`, { mode: 0o600 });
  assert.deepEqual((await loadAdminAuth({ host: '0.0.0.0', port: 9181 }, { tokenFile: join(dir, 'admin') }, pino({ level: 'silent' }))).admin, [{ name: 'admin', token: ADMIN_TOKEN }]);
});
