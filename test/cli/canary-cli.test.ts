import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyInvite } from '../../src/canary/core/invite-token.js';
import { renderCanaryReport, renderCanaryStatus } from '../../src/cli/canary-report-text.js';
import { renderExplanation } from '../../src/cli/explain-text.js';
import { runCli } from '../../src/cli/main.js';
import { explainChoice } from '../../src/redirect/core/explain-choice.js';
import { table } from '../redirect/core/redirect-fixture.js';
import { capture } from '../helpers/capture-io.js';

test('canary invite prints a link on the login host whose token the controller accepts until it expires', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-invite-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const keyFile = join(dir, 'canary-key');
  await writeFile(keyFile, 'a-secret-of-enough-length\n');
  const io = capture();
  assert.equal(await runCli(['canary', 'invite', 'debug-17-4-9', '--ttl', '2h', '--key-file', keyFile, '--login-url', 'https://login.example.com'], io), 0, io.stderr);
  const link = new URL(io.stdout.trim());
  assert.equal(`${link.origin}${link.pathname}`, 'https://login.example.com/canary/join');
  const token = link.searchParams.get('t') ?? '';
  const now = Math.floor(Date.now() / 1000);
  const ok = verifyInvite(token, 'a-secret-of-enough-length', now, (c) => c === 'debug-17-4-9');
  assert.ok(ok.ok);
  assert.ok(ok.value.expiresAt > now + 7000 && ok.value.expiresAt <= now + 7200);
  assert.equal(verifyInvite(token, 'a-secret-of-enough-length', now + 7201, () => true).ok, false);
  assert.match(io.stderr, /^valid until .* while canary debug-17-4-9 runs/);
});

test('canary invite without a key, or with a bad name or ttl, says what is wrong', async () => {
  const missing = capture();
  assert.equal(await runCli(['canary', 'invite', 'debug'], missing), 1);
  assert.match(missing.stderr, /no key to sign with: give --key-file or set MERIDIAN_CANARY_KEY_FILE/);
  const badName = capture();
  assert.equal(await runCli(['canary', 'invite', 'Not_A_Name', '--key-file', '/nonexistent'], badName), 1);
  assert.match(badName.stderr, /"Not_A_Name" is not a ProxyCanary name/);
  const badKey = capture();
  assert.equal(await runCli(['canary', 'invite', 'debug', '--key-file', '/nonexistent/key'], badKey), 1);
  assert.match(badKey.stderr, /\/nonexistent\/key/);
});

test('the canary report is the A/B table: canary against baseline, check by check, interval by interval, with the verdict and why', () => {
  const text = renderCanaryReport({
    namespace: 'default',
    name: 'debug',
    build: '17.4.9-debug.1',
    debug: true,
    traffic: 'optInOnly',
    paused: false,
    phase: 'RollingBack',
    message: 'Rolling back: connect-failure-ratio failed 2 intervals in a row',
    proxies: ['tokyo-1'],
    deploy: [],
    revert: [],
    decision: { kind: 'rollback', reason: 'connect-failure-ratio failed 2 intervals in a row', at: '2026-01-05T01:10:00.000Z' },
    diagnostics: [{ proxy: 'tokyo-1', files: ['/state/diagnostics/default/debug/tokyo-1-goroutine.txt'], at: '2026-01-05T01:10:00.000Z' }],
    intervals: [
      {
        from: '2026-01-05T01:00:00.000Z',
        to: '2026-01-05T01:05:00.000Z',
        verdict: 'Fail',
        outcomes: [{ check: 'connect-failure-ratio', proxy: 'tokyo-1', result: 'Fail', value: 0.3, baseline: 0.005, limit: 0.02, sample: 500, reason: '0.3000 of node connections failed (limit 0.0200, baseline 0.0050)' }],
      },
    ],
  });
  assert.match(text, /^default\/debug: build 17\.4\.9-debug\.1 on tokyo-1\n {2}RollingBack: Rolling back/);
  assert.match(text, /diagnostics of tokyo-1: \/state\/diagnostics\/default\/debug\/tokyo-1-goroutine\.txt/);
  assert.match(text, /Interval 1: 2026-01-05T01:00:00\.000Z → 2026-01-05T01:05:00\.000Z: Fail/);
  assert.match(text, /connect-failure-ratio  tokyo-1  0\.3000  0\.0050    0\.0200  Fail    0\.3000 of node connections failed/);
});

test('explain-redirect as an opted-in user shows the canary rule and the canary\'s own regions', () => {
  const routing = table({ canaries: [{ name: 'debug', proxies: ['tokyo-1'], optInOnly: true }] });
  const text = renderExplanation('203.0.113.9', explainChoice({ location: { latitude: 35.7, longitude: 139.7, countryCode: 'JP', continentCode: 'AS' }, clientKey: '203.0.113.9', canary: 'debug' }, routing));
  assert.match(text, /^Decision: tokyo-1 in tokyo \(canary, \d+ km\)/m);
  assert.match(text, /^ {2}canary +\S+ +tokyo/m);
  assert.match(text, /^Canary debug \(its proxies, nearest region first\):\n {2}tokyo /m);
  // Without the canary, tokyo-1 is not a candidate for ordinary users.
  const ordinary = renderExplanation('203.0.113.9', explainChoice({ location: { latitude: 35.7, longitude: 139.7 }, clientKey: '203.0.113.9' }, routing));
  assert.match(ordinary, /tokyo-1 +canary/);
  assert.doesNotMatch(ordinary, /^Decision: tokyo-1/m);
});

test('canary status shows each proxy\'s step and what it waits for, and the proxies off the build', () => {
  const text = renderCanaryStatus({
    namespace: 'default',
    name: 'debug',
    build: '17.4.9-debug.1',
    debug: true,
    traffic: 'optInOnly',
    paused: false,
    phase: 'Deploying',
    message: 'Deploying 17.4.9-debug.1 to tokyo-1, london-1: tokyo-1 waits for the window opening at Sat 2026-01-10 02:00 GMT+9 (2026-01-09 17:00 UTC)',
    proxies: ['tokyo-1', 'london-1'],
    deploy: [
      { name: 'tokyo-1', region: 'tokyo', wave: 0, step: 'Noticed', waitingFor: { reason: 'Window', until: '2026-01-09T17:00:00.000Z', message: 'the window opening at Sat 2026-01-10 02:00 GMT+9 (2026-01-09 17:00 UTC)' } },
      { name: 'london-1', region: 'london', wave: 0, step: 'Done', message: 'Upgraded to 17.4.9-debug.1' },
    ],
    revert: [],
    offBuild: [{ proxy: 'london-1', version: '17.4.2', since: '2026-01-06T00:00:00.000Z' }],
    diagnostics: [],
    intervals: [],
  });
  assert.match(text, /^ {2}Deploying: Deploying 17\.4\.9-debug\.1 to tokyo-1, london-1: tokyo-1 waits for the window opening at Sat 2026-01-10 02:00 GMT\+9/m);
  assert.match(text, /deploy +tokyo-1 +tokyo +Noticed +waits for the window opening at Sat 2026-01-10 02:00 GMT\+9 \(2026-01-09 17:00 UTC\)/);
  assert.match(text, /deploy +london-1 +london +Done +Upgraded to 17\.4\.9-debug\.1/);
  assert.match(text, /OFF BUILD: london-1 runs 17\.4\.2 since 2026-01-06T00:00:00\.000Z; no invitee is sent there/);
});
