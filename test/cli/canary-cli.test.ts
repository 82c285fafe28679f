import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyInvite } from '../../src/canary/core/invite-token.js';
import { runCli } from '../../src/cli/main.js';
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
