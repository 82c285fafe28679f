import { err, ok, type Result } from '../../model/result.js';
import { parseCidrSet } from '../../model/cidr-set.js';

/** Which header the trusted proxies write. Only that one is read: honouring both lets a client forge the other. */
export type ForwardingHeader = 'x-forwarded-for' | 'forwarded';

export interface TrustedProxies {
  /** The entries as parsed (a bare address becomes a /32 or /128). */
  readonly cidrs: readonly string[];
  readonly header: ForwardingHeader;
  /** Whether a normalised address (see normaliseIp) belongs to a trusted proxy. */
  readonly contains: (ip: string, family: 4 | 6) => boolean;
}

export interface TrustedProxiesOptions {
  /** Default `x-forwarded-for`, what most load balancers write. */
  readonly header?: ForwardingHeader;
}

/**
 * Parses the CIDRs of the load balancers in front of Meridian (IPv4 and IPv6; a bare address
 * means that host only). The error names the entry at fault. An empty list trusts nobody:
 * forwarding headers are then never read.
 */
export function parseTrustedProxies(cidrs: readonly string[], options: TrustedProxiesOptions = {}): Result<TrustedProxies, string> {
  const set = parseCidrSet(cidrs.map((c) => [c, true] as const));
  if (!set.ok) return err(`trusted proxy ${set.error.index} "${set.error.entry}": ${set.error.why}`);
  return ok({
    cidrs: set.value.cidrs,
    header: options.header ?? 'x-forwarded-for',
    contains: (ip, family) => set.value.match(ip, family) === true,
  });
}
