import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signInvite, verifyInvite } from '../../src/canary/core/invite-token.js';

const KEY = 'k'.repeat(32);
const NOW = 1_800_000_000;
const running = (c: string): boolean => c === 'debug-17-4-9';

test('an invite signed with the key verifies until it expires, for a running canary', () => {
  const token = signInvite({ canary: 'debug-17-4-9', expiresAt: NOW + 3600 }, KEY);
  assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(verifyInvite(token, KEY, NOW, running), { ok: true, value: { canary: 'debug-17-4-9', expiresAt: NOW + 3600 } });
});

test('expired, forged, other-key, tampered, unknown or ended canaries, and garbage are refused with the reason', () => {
  const good = signInvite({ canary: 'debug-17-4-9', expiresAt: NOW + 3600 }, KEY);
  const why = (token: string, now = NOW, isRunning = running) => {
    const r = verifyInvite(token, KEY, now, isRunning);
    return r.ok ? 'ok' : r.error.why;
  };
  assert.equal(why(good, NOW + 3600), 'expired');
  assert.equal(why(signInvite({ canary: 'debug-17-4-9', expiresAt: NOW + 3600 }, 'another key')), 'forged');
  // The payload changed to another canary, the signature kept: forged.
  const [, sig] = good.split('.');
  const otherPayload = Buffer.from(JSON.stringify({ c: 'other', e: NOW + 3600 })).toString('base64url');
  assert.equal(why(`${otherPayload}.${sig}`), 'forged');
  assert.equal(why(signInvite({ canary: 'other', expiresAt: NOW + 3600 }, KEY)), 'unknown_canary');
  // Replay after the canary ended.
  assert.equal(why(good, NOW, () => false), 'unknown_canary');
  for (const garbage of ['', 'abc', 'a.b', `${'a'.repeat(600)}.${sig}`, '<script>.x', `${good}x`]) assert.equal(why(garbage), 'malformed', JSON.stringify(garbage));
});
