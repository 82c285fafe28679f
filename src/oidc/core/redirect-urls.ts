import type { ProxyFleetSpec } from '../../model/fleet.js';

/** Teleport's OIDC callback path on every proxy's public address. */
export const OIDC_CALLBACK_PATH = '/v1/webapi/oidc/callback';

/**
 * The `redirect_url` list for Teleport's OIDC connector: one entry per proxy public address,
 * in fleet order. Teleport picks the entry whose host matches the proxy the login started on.
 */
export function oidcRedirectUrls(spec: ProxyFleetSpec): string[] {
  const urls = spec.proxies.map((p) => `${new URL(p.publicUrl).origin}${OIDC_CALLBACK_PATH}`);
  return [...new Set(urls)];
}
