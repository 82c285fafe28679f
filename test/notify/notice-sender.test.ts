import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import pino from 'pino';
import { readSecret, runCommand, type RunCommand } from '../../src/adapters/hooks/index.js';
import { createNoticeSender, DEFAULT_TELEPORT_COMMAND, type NoticeSenderDeps } from '../../src/adapters/notify/index.js';
import type { NoticePayload } from '../../src/model/actuators.js';
import type { NoticeChannel } from '../../src/model/rollout.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { refusedUrl, signatureVerifies, startReceiver, WRITE_ARGS } from '../hooks/http-receiver.js';

const NOW = Date.UTC(2026, 2, 1, 12, 0, 0);
const NOTICE: NoticePayload = {
  id: 'default-demo-eu-central-w0-1h',
  rollout: 'default/demo',
  region: 'eu-central',
  proxies: ['fra-1', 'fra-2'],
  version: '17.4.8',
  leadTime: '1h',
  windowStartAt: '2026-03-01T13:00:00.000Z',
  windowEndAt: '2026-03-01T17:00:00.000Z',
  severity: 'medium',
  message: 'Proxies fra-1, fra-2 restart at 14:00 CET (13:00 UTC) for 17.4.8 <b> & "you"',
  ttl: '4h',
};

function sender(extra: Partial<NoticeSenderDeps> = {}) {
  return createNoticeSender({
    log: pino({ level: 'silent' }),
    clock: new ManualClock(NOW),
    runCommand,
    readSecret,
    timeoutMs: 2_000,
    backoff: { baseMs: 10, maxMs: 50 },
    ...extra,
  });
}

const signal = (): AbortSignal => new AbortController().signal;

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-notify-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('slack: POSTs {"text"} with Slack markup escaped; "ok" with 200 is sent', async (t) => {
  const rx = await startReceiver(t, [{ status: 200, body: 'ok' }], '/services/T000/B000/XXXXSECRET');
  const channel: NoticeChannel = { name: 'ops-slack', type: 'slack', url: rx.url };
  const r = await sender()(channel, NOTICE, signal());
  assert.deepEqual(r, { ok: true, value: { attempts: 1 } });
  assert.equal(rx.received.length, 1);
  const got = rx.received[0];
  assert.equal(got?.method, 'POST');
  assert.match(String(got?.headers['content-type']), /^application\/json/);
  assert.deepEqual(JSON.parse(got?.body ?? ''), { text: 'Proxies fra-1, fra-2 restart at 14:00 CET (13:00 UTC) for 17.4.8 &lt;b&gt; &amp; "you"' });
});

test('slack: a 4xx is not retried; the error names channel, host, status and reply, never the secret path', async (t) => {
  const rx = await startReceiver(t, [{ status: 404, body: 'no_service' }], '/services/T000/B000/XXXXSECRET');
  const r = await sender()({ name: 'ops-slack', type: 'slack', url: rx.url }, NOTICE, signal());
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.error.attempts, 1);
  assert.equal(rx.received.length, 1);
  assert.match(r.error.error, /^slack channel "ops-slack" at 127\.0\.0\.1:\d+: HTTP 404: "no_service"$/);
  assert.doesNotMatch(r.error.error, /SECRET|services/);
});

test('webhook: POSTs the notice with id, timestamp and a signature that verifies', async (t) => {
  const dir = await tempDir(t);
  const secretFile = join(dir, 'key');
  await writeFile(secretFile, 's3cret-key\n');
  const rx = await startReceiver(t, [{ status: 204 }]);
  const r = await sender()({ name: 'hooks', type: 'webhook', url: rx.url, secretFile }, NOTICE, signal());
  assert.deepEqual(r, { ok: true, value: { attempts: 1 } });
  const got = rx.received[0];
  assert.ok(got);
  assert.deepEqual(JSON.parse(got.body), { type: 'meridian.notice', ...NOTICE });
  assert.equal(got.headers['x-meridian-id'], NOTICE.id);
  assert.equal(got.headers['x-meridian-timestamp'], String(NOW / 1000));
  assert.match(String(got.headers['x-meridian-signature']), /^sha256=[0-9a-f]{64}$/);
  assert.ok(signatureVerifies(got, 's3cret-key'), 'the trailing newline of the file is not part of the key');
  assert.ok(!signatureVerifies(got, 's3cret-key\n'));
});

test('webhook: without secretFile there is no signature header', async (t) => {
  const rx = await startReceiver(t, [{ status: 200 }]);
  const r = await sender()({ name: 'hooks', type: 'webhook', url: rx.url }, NOTICE, signal());
  assert.equal(r.ok, true);
  assert.equal(rx.received[0]?.headers['x-meridian-signature'], undefined);
  assert.equal(rx.received[0]?.headers['x-meridian-id'], NOTICE.id);
});

test('webhook: 503 twice, then 200, is sent after 3 attempts with the same id and signature', async (t) => {
  const rx = await startReceiver(t, [{ status: 503, body: 'busy' }, { status: 503 }, { status: 200 }]);
  const r = await sender()({ name: 'hooks', type: 'webhook', url: rx.url }, NOTICE, signal());
  assert.deepEqual(r, { ok: true, value: { attempts: 3 } });
  assert.equal(rx.received.length, 3);
  assert.equal(new Set(rx.received.map((x) => x.headers['x-meridian-id'])).size, 1);
  assert.equal(new Set(rx.received.map((x) => x.body)).size, 1);
});

test('webhook: 429 and 5xx until the attempts run out fail with the last status', async (t) => {
  const rx = await startReceiver(t, [{ status: 429 }, { status: 500 }, { status: 502, body: '<html>Bad   gateway</html>' }]);
  const r = await sender({ attempts: 3 })({ name: 'hooks', type: 'webhook', url: rx.url }, NOTICE, signal());
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.error.attempts, 3);
  assert.equal(rx.received.length, 3);
  assert.match(r.error.error, /^webhook channel "hooks" at 127\.0\.0\.1:\d+: HTTP 502: "<html>Bad gateway<\/html>" \(after 3 tries\)$/);
});

test('webhook: 400, 401, 403 and 404 are not retried', async (t) => {
  for (const status of [400, 401, 403, 404]) {
    const rx = await startReceiver(t, [{ status }]);
    const r = await sender()({ name: 'hooks', type: 'webhook', url: rx.url }, NOTICE, signal());
    assert.equal(r.ok, false, String(status));
    if (!r.ok) assert.equal(r.error.attempts, 1, String(status));
    assert.equal(rx.received.length, 1, String(status));
  }
});

test('webhook: a receiver that never answers times out on every attempt', async (t) => {
  const rx = await startReceiver(t, ['hang']);
  const r = await sender({ timeoutMs: 150, attempts: 2 })({ name: 'hooks', type: 'webhook', url: rx.url }, NOTICE, signal());
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.error.attempts, 2);
  assert.equal(rx.received.length, 2);
  assert.match(r.error.error, /^webhook channel "hooks" at 127\.0\.0\.1:\d+: no answer within 150 ms \(after 2 tries\)$/);
});

test('webhook: connection refused is retried, then reported', async () => {
  const url = await refusedUrl();
  const r = await sender()({ name: 'hooks', type: 'webhook', url }, NOTICE, signal());
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.error.attempts, 3);
  assert.match(r.error.error, /^webhook channel "hooks" at 127\.0\.0\.1:\d+: connection refused \(after 3 tries\)$/);
});

test('webhook: an unreadable secret file fails before anything is sent, naming the file', async (t) => {
  const rx = await startReceiver(t, [{ status: 200 }]);
  const r = await sender()({ name: 'hooks', type: 'webhook', url: rx.url, secretFile: '/nonexistent/meridian-key' }, NOTICE, signal());
  assert.deepEqual(r, { ok: false, error: { attempts: 0, error: 'webhook channel "hooks": secret file /nonexistent/meridian-key does not exist' } });
  assert.equal(rx.received.length, 0);
});

test('webhook: an aborted signal stops the retries', async (t) => {
  const rx = await startReceiver(t, ['hang']);
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 100);
  const r = await sender({ timeoutMs: 5_000 })({ name: 'hooks', type: 'webhook', url: rx.url }, NOTICE, ac.signal);
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.error.error, /: cancelled$/);
  assert.equal(rx.received.length, 1);
});

test('teleport: placeholders are filled inside each argument, with no shell in between', async (t) => {
  const out = join(await tempDir(t), 'argv.json');
  const message = 'Restart at 14:00; $(touch /tmp/pwned) `id` && echo "hi" | cat > /dev/null';
  const command = [process.execPath, '-e', WRITE_ARGS, out, '{message}', '--severity={severity}', '{ttl}', 'id={id}', '{region}', '{version}', '{proxies}', '{rollout}', '{leadTime}'];
  const r = await sender()({ name: 'alerts', type: 'teleport', command }, { ...NOTICE, message, ttl: '2d' }, signal());
  assert.deepEqual(r, { ok: true, value: { attempts: 1 } });
  assert.deepEqual(JSON.parse(await readFile(out, 'utf8')), [
    message,
    '--severity=medium',
    '48h0m0s',
    `id=${NOTICE.id}`,
    'eu-central',
    '17.4.8',
    'fra-1,fra-2',
    'default/demo',
    '1h',
  ]);
});

test('teleport: the default command is tctl alerts create with alert-on-login, alert-permit-all and a Go --ttl (argv end to end)', async (t) => {
  // A stand-in tctl that records its argv, run through the real command runner.
  const dir = await tempDir(t);
  const tctl = join(dir, 'tctl');
  await writeFile(tctl, `#!/bin/sh\n: > "${dir}/argv"\nfor a in "$@"; do printf '%s\\0' "$a" >> "${dir}/argv"; done\n`, { mode: 0o755 });
  let program = '';
  const viaStandIn: RunCommand = (argv, opts) => {
    program = argv[0] ?? '';
    return runCommand([tctl, ...argv.slice(1)], opts);
  };
  const r = await sender({ runCommand: viaStandIn })({ name: 'alerts', type: 'teleport' }, { ...NOTICE, ttl: '1h30m' }, signal());
  assert.deepEqual(r, { ok: true, value: { attempts: 1 } });
  assert.equal(program, 'tctl');
  const argv = (await readFile(join(dir, 'argv'), 'utf8')).split('\0').slice(0, -1);
  assert.deepEqual(argv, [
    'alerts', 'create', NOTICE.message, '--severity', 'medium', '--ttl', '1h30m0s',
    '--labels', `teleport.internal/alert-on-login=yes,teleport.internal/alert-permit-all=yes,meridian.dev/notice=${NOTICE.id}`,
  ]);
  assert.deepEqual(DEFAULT_TELEPORT_COMMAND.slice(0, 3), ['tctl', 'alerts', 'create']);
});

test('teleport: what tctl alerts create would refuse is refused first, naming the argument; nothing runs', async (t) => {
  const dir = await tempDir(t);
  const marker = join(dir, 'ran');
  const runs: RunCommand = async (argv, opts) => {
    await writeFile(marker, argv.join(' '));
    return runCommand(['true'], opts);
  };
  const cases: [NoticeChannel, NoticePayload, RegExp][] = [
    [{ name: 'alerts', type: 'teleport' }, { ...NOTICE, id: 'Default/Demo 1' }, /--labels: value "Default\/Demo 1" of meridian\.dev\/notice is not allowed by Teleport/],
    [{ name: 'alerts', type: 'teleport' }, { ...NOTICE, message: 'line one\nline two' }, /control character/],
    [{ name: 'alerts', type: 'teleport', command: ['tctl', 'alerts', 'create', '{message}', '--severity={severity}x'] }, NOTICE, /--severity: "mediumx" is not one of low, medium, high/],
    [{ name: 'alerts', type: 'teleport', command: ['/usr/local/bin/tctl', 'alerts', 'create', '{message}', '--ttl', '2d'] }, NOTICE, /--ttl: "2d" is not a Go duration/],
    [{ name: 'alerts', type: 'teleport', command: ['tctl', 'alerts', 'create', '{message}', '--labels', 'Team=ops'] }, NOTICE, /--labels: key "Team" is not allowed by Teleport/],
  ];
  for (const [channel, notice, message] of cases) {
    const r = await sender({ runCommand: runs })(channel, notice, signal());
    assert.equal(r.ok, false, String(message));
    if (!r.ok) {
      assert.match(r.error.error, /^teleport channel "alerts": tctl alerts create would refuse it: /);
      assert.match(r.error.error, message);
      assert.equal(r.error.attempts, 0);
    }
  }
  await assert.rejects(readFile(marker), { code: 'ENOENT' });
});

test('teleport: a non-zero exit fails with the exit code and the start of stderr', async () => {
  const command = [process.execPath, '-e', "process.stderr.write('ERROR: access denied to perform action \"create\" on \"cluster_alert\"\\n'); process.exit(3)"];
  const r = await sender()({ name: 'alerts', type: 'teleport', command }, NOTICE, signal());
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.error.attempts, 1);
  assert.ok(r.error.error.startsWith(`teleport channel "alerts": ${process.execPath}: exited with code 3: "ERROR: access denied`), r.error.error);
});

test('teleport: a command that outlives the timeout is killed and reported', async () => {
  const command = [process.execPath, '-e', 'setTimeout(() => {}, 60_000)'];
  const started = Date.now();
  const r = await sender({ timeoutMs: 200 })({ name: 'alerts', type: 'teleport', command }, NOTICE, signal());
  assert.ok(Date.now() - started < 5_000);
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.error.error, `teleport channel "alerts": ${process.execPath}: timed out after 200 ms`);
});

test('teleport: a missing program, an unknown placeholder and a bad ttl are clear errors', async () => {
  const cases: [NoticeChannel, NoticePayload, RegExp][] = [
    [{ name: 'alerts', type: 'teleport', command: ['meridian-no-such-tctl', 'x'] }, NOTICE, /^teleport channel "alerts": meridian-no-such-tctl: could not start \(not found\)$/],
    [{ name: 'alerts', type: 'teleport', command: ['tctl', '{mesage}'] }, NOTICE, /^teleport channel "alerts": unknown placeholder \{mesage\} in the command \(known: \{message\} /],
    [{ name: 'alerts', type: 'teleport' }, { ...NOTICE, ttl: 'forever' }, /^teleport channel "alerts": ttl "forever" is not a duration/],
  ];
  for (const [channel, notice, message] of cases) {
    const r = await sender()(channel, notice, signal());
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.error.error, message);
  }
});
