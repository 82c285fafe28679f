import { createHmac, timingSafeEqual } from 'node:crypto';
import { err, ok, type Result } from '../../model/result.js';

/** What an invite says: which canary, until when. */
export interface Invite {
  readonly canary: string;
  /** Epoch seconds. */
  readonly expiresAt: number;
}

export type InviteRefusal = 'malformed' | 'forged' | 'expired' | 'unknown_canary';

export interface InviteProblem {
  readonly why: InviteRefusal;
  /** For the page the user sees: plain words, nothing reflected from the token. */
  readonly message: string;
}

const MAX_TOKEN_LENGTH = 512;
const TOKEN = /^[A-Za-z0-9_-]{1,400}\.[A-Za-z0-9_-]{43}$/;

function mac(key: string, payload: string): Buffer {
  return createHmac('sha256', key).update(`meridian-canary-invite.${payload}`).digest();
}

/** `<base64url JSON {c, e}>.<base64url HMAC-SHA256>`: short enough for a link and a cookie. */
export function signInvite(invite: Invite, key: string): string {
  const payload = Buffer.from(JSON.stringify({ c: invite.canary, e: invite.expiresAt })).toString('base64url');
  return `${payload}.${mac(key, payload).toString('base64url')}`;
}

/**
 * Checks an invite (from the link or the cookie): the signature first (nothing in a forged
 * token is believed), then the expiry, then that the canary is still running, which also
 * refuses a token replayed after its canary ended.
 */
export function verifyInvite(token: string, key: string, nowSeconds: number, isRunning: (canary: string) => boolean): Result<Invite, InviteProblem> {
  if (token.length > MAX_TOKEN_LENGTH || !TOKEN.test(token)) return err({ why: 'malformed', message: 'This is not a canary invitation link.' });
  const [payload = '', signature = ''] = token.split('.');
  const expected = mac(key, payload);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return err({ why: 'forged', message: 'This invitation was not issued by this login service.' });
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return err({ why: 'malformed', message: 'This is not a canary invitation link.' });
  }
  const c = typeof body === 'object' && body !== null && 'c' in body ? body.c : undefined;
  const e = typeof body === 'object' && body !== null && 'e' in body ? body.e : undefined;
  if (typeof c !== 'string' || typeof e !== 'number' || !Number.isFinite(e)) return err({ why: 'malformed', message: 'This is not a canary invitation link.' });
  if (e <= nowSeconds) return err({ why: 'expired', message: 'This invitation has expired.' });
  if (!isRunning(c)) return err({ why: 'unknown_canary', message: 'The canary this invitation is for is not running (any more).' });
  return ok({ canary: c, expiresAt: e });
}
