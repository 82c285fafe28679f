import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import pino from 'pino';
import { createHookRunner, readSecret, runCommand, type HookRunnerDeps } from '../../src/adapters/hooks/index.js';
import type { HookAction, HookRequest } from '../../src/model/actuators.js';
import type { Proxy, Upgrade } from '../../src/model/fleet.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { refusedUrl, signatureVerifies, startReceiver, WRITE_ARGS } from './http-receiver.js';

const NOW = Date.UTC(2026, 2, 1, 13, 0, 0);

function proxy(upgrade?: Upgrade): Proxy {
  return {
    name: 'fra-1',
    region: 'eu-central',
    publicUrl: 'https://fra-1.example.com',
    diagnosticUrl: 'http://10.0.0.1:3000',
    version: '17.4.2',
    ...(upgrade === undefined ? {} : { upgrade }),
  };
}

function request(upgrade: Upgrade | undefined, action: HookAction = 'upgrade', extra: Partial<HookRequest> = {}): HookRequest {
  return { id: `default-demo-fra-1-${action}-17.4.8`, rollout: 'default/demo', action, proxy: proxy(upgrade), version: '17.4.8', ...extra };
}

function runner(extra: Partial<HookRunnerDeps> = {}) {
  return createHookRunner({
    log: pino({ level: 'silent' }),
    clock: new ManualClock(NOW),
    runCommand,
    readSecret,
    backoff: { baseMs: 10, maxMs: 50 },
    ...extra,
  });
}

const signal = (): AbortSignal => new AbortController().signal;

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-hooks-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('webhook: POSTs the signed meridian.hook body; an empty 2xx reply is accepted', async (t) => {
  const secretFile = join(await tempDir(t), 'hook-key');
  await writeFile(secretFile, 'hook-secret\r\n');
  const rx = await startReceiver(t, [{ status: 202 }]);
  const req = request({ method: 'webhook', url: rx.url, secretFile }, 'upgrade', { image: 'public.ecr.aws/gravitational/teleport-distroless:17.4.8' });
  const r = await runner()(req, signal());
  assert.deepEqual(r, { ok: true, value: { attempts: 1 } });
  const got = rx.received[0];
  assert.ok(got);
  assert.equal(got.method, 'POST');
  assert.deepEqual(JSON.parse(got.body), {
    type: 'meridian.hook',
    id: req.id,
    rollout: 'default/demo',
    action: 'upgrade',
    proxy: 'fra-1',
    region: 'eu-central',
    version: '17.4.8',
    image: 'public.ecr.aws/gravitational/teleport-distroless:17.4.8',
  });
  assert.equal(got.headers['x-meridian-id'], req.id);
  assert.equal(got.headers['x-meridian-timestamp'], String(NOW / 1000));
  assert.ok(signatureVerifies(got, 'hook-secret'));
});

test('webhook: rotation actions go to the webhook too, without an image field when there is none', async (t) => {
  const rx = await startReceiver(t, [{ status: 200, body: '{"accepted":true}' }]);
  const r = await runner()(request({ method: 'webhook', url: rx.url }, 'out-of-rotation', { version: '17.4.2' }), signal());
  assert.deepEqual(r, { ok: true, value: { attempts: 1 } });
  const body = JSON.parse(rx.received[0]?.body ?? '') as Record<string, unknown>;
  assert.equal(body['action'], 'out-of-rotation');
  assert.equal('image' in body, false);
  assert.equal(rx.received[0]?.headers['x-meridian-signature'], undefined);
});

test('webhook: a 2xx JSON reply with "accepted": false is a failure with its error', async (t) => {
  const rx = await startReceiver(t, [{ status: 200, body: '{"accepted": false, "error": "host is in a change freeze"}', headers: { 'content-type': 'application/json' } }]);
  const r = await runner()(request({ method: 'webhook', url: rx.url }), signal());
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.error.attempts, 1);
  assert.match(r.error.error, /^upgrade hook of proxy "fra-1": webhook at 127\.0\.0\.1:\d+: refused: host is in a change freeze$/);
});

test('webhook: 503 then 200 succeeds on the second attempt; a 404 is not retried', async (t) => {
  const flaky = await startReceiver(t, [{ status: 503 }, { status: 200, body: 'done' }]);
  assert.deepEqual(await runner()(request({ method: 'webhook', url: flaky.url }), signal()), { ok: true, value: { attempts: 2 } });
  const missing = await startReceiver(t, [{ status: 404, body: 'no such route' }]);
  const r = await runner()(request({ method: 'webhook', url: missing.url }), signal());
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.error.attempts, 1);
  assert.equal(missing.received.length, 1);
  assert.match(r.error.error, /: HTTP 404: "no such route"$/);
});

test('webhook: upgrade.timeout bounds each attempt (30d included); refused connections are retried and reported', async (t) => {
  const rx = await startReceiver(t, ['hang']);
  const slow = await runner({ attempts: 2 })(request({ method: 'webhook', url: rx.url, timeout: '150ms' }), signal());
  assert.equal(slow.ok, false);
  if (!slow.ok) {
    assert.equal(slow.error.attempts, 2);
    assert.match(slow.error.error, /no answer within 150 ms \(after 2 tries\)$/);
  }
  // A timeout longer than a timer holds (30d) is "never", not 1 ms: a receiver that takes 50 ms is waited for.
  const unhurried = createServer((_req, res) => void setTimeout(() => res.end(), 50));
  await new Promise<void>((resolve) => unhurried.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => unhurried.close(() => resolve())));
  const { port } = unhurried.address() as AddressInfo;
  const patient = await runner({ attempts: 1 })(request({ method: 'webhook', url: `http://127.0.0.1:${port}/hook`, timeout: '30d' }), signal());
  assert.equal(patient.ok, true, patient.ok ? '' : patient.error.error);
  const refused = await runner()(request({ method: 'webhook', url: await refusedUrl() }), signal());
  assert.equal(refused.ok, false);
  if (!refused.ok) {
    assert.equal(refused.error.attempts, 3);
    assert.match(refused.error.error, /connection refused \(after 3 tries\)$/);
  }
});

test('command: upgrade and rollback run the argv template without a shell', async (t) => {
  const dir = await tempDir(t);
  for (const action of ['upgrade', 'rollback'] as const) {
    const out = join(dir, `${action}.json`);
    const command = [process.execPath, '-e', WRITE_ARGS, out, '--proxy={proxy}', '{region}', '{version}', '{image}', '{id}', '{action}', '{rollout}', '$(rm -rf {proxy}); echo'];
    const r = await runner()(request({ method: 'command', command }, action, { image: 'teleport:17.4.8' }), signal());
    assert.deepEqual(r, { ok: true, value: { attempts: 1 } }, action);
    assert.deepEqual(JSON.parse(await readFile(out, 'utf8')), [
      '--proxy=fra-1',
      'eu-central',
      '17.4.8',
      'teleport:17.4.8',
      `default-demo-fra-1-${action}-17.4.8`,
      action,
      'default/demo',
      '$(rm -rf fra-1); echo',
    ]);
  }
});

test('command: rotation actions run nothing and answer 0 attempts', async (t) => {
  const out = join(await tempDir(t), 'ran.json');
  const upgrade: Upgrade = { method: 'command', command: [process.execPath, '-e', WRITE_ARGS, out] };
  for (const action of ['out-of-rotation', 'in-rotation'] as const) {
    assert.deepEqual(await runner()(request(upgrade, action), signal()), { ok: true, value: { attempts: 0 } });
  }
  await assert.rejects(stat(out), { code: 'ENOENT' });
});

test('command: a non-zero exit and a timeout are failures naming the program', async () => {
  const failing: Upgrade = { method: 'command', command: [process.execPath, '-e', "console.error('ansible: host unreachable'); process.exit(2)"] };
  const r = await runner()(request(failing), signal());
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.error.error, `upgrade hook of proxy "fra-1": ${process.execPath}: exited with code 2: "ansible: host unreachable"`);
  const hanging: Upgrade = { method: 'command', command: [process.execPath, '-e', 'setInterval(() => {}, 1000)'], timeout: '200ms' };
  const slow = await runner()(request(hanging, 'rollback'), signal());
  assert.equal(slow.ok, false);
  if (!slow.ok) assert.equal(slow.error.error, `rollback hook of proxy "fra-1": ${process.execPath}: timed out after 200 ms`);
});

test('manual answers ok with 0 attempts; kubernetes, no upgrade and incomplete methods are clear errors', async () => {
  for (const action of ['out-of-rotation', 'upgrade', 'rollback', 'in-rotation'] as const) {
    assert.deepEqual(await runner()(request({ method: 'manual' }, action), signal()), { ok: true, value: { attempts: 0 } });
  }
  const cases: [Upgrade | undefined, string][] = [
    [{ method: 'kubernetes' }, 'upgrade hook of proxy "fra-1": upgrade.method kubernetes needs the Kubernetes mode, which standalone mode does not have yet'],
    [undefined, 'upgrade hook of proxy "fra-1": the proxy has no spec.proxies[].upgrade'],
    [{ method: 'webhook' }, 'upgrade hook of proxy "fra-1": upgrade.method is webhook but upgrade.url is not set'],
    [{ method: 'command' }, 'upgrade hook of proxy "fra-1": upgrade.method is command but upgrade.command is not set'],
    [{ method: 'command', command: ['deploy', '{host}'] }, 'upgrade hook of proxy "fra-1": upgrade.command: unknown placeholder {host} in the command (known: {proxy} {region} {version} {image} {artifact} {id} {action} {rollout} {flags} {peer_listen_addr} {peer_public_addr})'],
    [{ method: 'webhook', url: 'http://127.0.0.1:9/', secretFile: '/nonexistent/key' }, 'upgrade hook of proxy "fra-1": secret file /nonexistent/key does not exist'],
  ];
  for (const [upgrade, message] of cases) {
    assert.deepEqual(await runner()(request(upgrade), signal()), { ok: false, error: { attempts: 0, error: message } });
  }
});

test('a build\'s extra flags go in the webhook body and fill {flags} in a command', async (t) => {
  const rx = await startReceiver(t, [{ status: 200 }]);
  await runner()(request({ method: 'webhook', url: rx.url }, 'upgrade', { flags: ['--debug', '--log-level=debug'] }), signal());
  assert.deepEqual((JSON.parse(rx.received[0]?.body ?? '{}') as { flags?: string[] }).flags, ['--debug', '--log-level=debug']);
  const out = join(await tempDir(t), 'argv.json');
  const r = await runner()(request({ method: 'command', command: [process.execPath, '-e', WRITE_ARGS, out, '{proxy}', '--flags={flags}'] }, 'upgrade', { flags: ['--debug'] }), signal());
  assert.ok(r.ok, r.ok ? '' : r.error.error);
  assert.deepEqual(JSON.parse(await readFile(out, 'utf8')), ['fra-1', '--flags=--debug']);
});

test('a build artifact goes in the webhook body next to the image, and fills {artifact} in a command', async (t) => {
  const artifact = 'https://artifacts.example.com/teleport-ent-17.4.8-linux-amd64.tar.gz';
  const rx = await startReceiver(t, [{ status: 200 }]);
  await runner()(request({ method: 'webhook', url: rx.url }, 'upgrade', { image: 'teleport:17.4.8', artifact }), signal());
  const body = JSON.parse(rx.received[0]?.body ?? '{}') as Record<string, unknown>;
  assert.deepEqual([body['image'], body['artifact']], ['teleport:17.4.8', artifact]);
  const out = join(await tempDir(t), 'argv.json');
  const command = [process.execPath, '-e', WRITE_ARGS, out, 'install', '--package={artifact}', '{version}'];
  const r = await runner()(request({ method: 'command', command }, 'upgrade', { artifact: '/srv/pkgs/teleport 17.4.8.deb' }), signal());
  assert.ok(r.ok, r.ok ? '' : r.error.error);
  assert.deepEqual(JSON.parse(await readFile(out, 'utf8')), ['install', '--package=/srv/pkgs/teleport 17.4.8.deb', '17.4.8']);
  // Without one, the field is left out and {artifact} is empty.
  const rx2 = await startReceiver(t, [{ status: 200 }]);
  await runner()(request({ method: 'webhook', url: rx2.url }), signal());
  assert.equal('artifact' in (JSON.parse(rx2.received[0]?.body ?? '{}') as Record<string, unknown>), false);
  const r2 = await runner()(request({ method: 'command', command }, 'upgrade'), signal());
  assert.ok(r2.ok, r2.ok ? '' : r2.error.error);
  assert.deepEqual(JSON.parse(await readFile(out, 'utf8')), ['install', '--package=', '17.4.8']);
});
