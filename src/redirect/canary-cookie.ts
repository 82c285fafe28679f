/** The cookie that carries a user's canary invite (the signed token itself, checked on every use). */
export const CANARY_COOKIE = 'meridian_canary';
const MARKER = `${CANARY_COOKIE}=`;

/**
 * The cookie's value from a Cookie header. Headers without it are passed over with one
 * substring search, so requests of users who never opted in pay nothing more.
 */
export function readCanaryCookie(header: string | undefined): string | undefined {
  if (!header || !header.includes(MARKER)) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === CANARY_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
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
