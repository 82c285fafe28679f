import { readCookie } from './cookie-header.js';

/** The cookie that carries a user's canary invite (the signed token itself, checked on every use). */
export const CANARY_COOKIE = 'meridian_canary';

/** Requests of users who never opted in pay one substring search. */
export function readCanaryCookie(header: string | undefined): string | undefined {
  return readCookie(header, CANARY_COOKIE);
}

/**
 * Only a token verifyInvite accepted is ever written (base64url and one dot), so nothing else
 * from the request is reflected. It lives as long as the invite.
 */
export function setCanaryCookie(token: string, maxAgeSeconds: number): string {
  return `${CANARY_COOKIE}=${token}; Path=/; Max-Age=${maxAgeSeconds}; Secure; HttpOnly; SameSite=Lax`;
}

export function clearCanaryCookie(): string {
  return `${CANARY_COOKIE}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax`;
}
