import { readCookie } from './cookie-header.js';

/** The cookie that remembers a user's explicit ?region= choice. */
export const REGION_COOKIE = 'meridian_region';
/** `?region=auto` forgets the choice. */
export const AUTO_REGION = 'auto';
const ONE_YEAR_S = 365 * 24 * 3600;

export function readRegionCookie(header: string | undefined): string | undefined {
  return readCookie(header, REGION_COOKIE);
}

/** Only known region names (DNS labels) are ever written, so nothing from the request is reflected. */
export function setRegionCookie(region: string): string {
  return `${REGION_COOKIE}=${region}; Path=/; Max-Age=${ONE_YEAR_S}; Secure; HttpOnly; SameSite=Lax`;
}

export function clearRegionCookie(): string {
  return `${REGION_COOKIE}=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax`;
}
