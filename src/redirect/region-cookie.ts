/** The cookie that remembers a user's explicit ?region= choice. */
export const REGION_COOKIE = 'meridian_region';
/** `?region=auto` forgets the choice. */
export const AUTO_REGION = 'auto';
const ONE_YEAR_S = 365 * 24 * 3600;

/** The cookie's value from a Cookie header, without parsing the rest of it. */
export function readRegionCookie(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === REGION_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Only known region names (DNS labels) are ever written, so nothing from the request is reflected. */
export function setRegionCookie(region: string): string {
  return `${REGION_COOKIE}=${region}; Path=/; Max-Age=${ONE_YEAR_S}; Secure; HttpOnly; SameSite=Lax`;
}

export function clearRegionCookie(): string {
  return `${REGION_COOKIE}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax`;
}
