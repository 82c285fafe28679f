import { err, ok, type Result } from '../../model/result.js';
import { ipv4ToUint32, ipv6ToHextets, normaliseIp } from './ip-address.js';

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

interface V4Net {
  readonly net: number;
  readonly mask: number;
}
interface V6Net {
  readonly hextets: readonly number[];
  readonly prefix: number;
}

const PREFIX = /^\d{1,3}$/;

function v4Mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

function inV6(addr: readonly number[], n: V6Net): boolean {
  for (let i = 0, left = n.prefix; left > 0; i++, left -= 16) {
    const bits = left >= 16 ? 16 : left;
    const mask = (0xffff << (16 - bits)) & 0xffff;
    if ((((addr[i] ?? 0) ^ (n.hextets[i] ?? 0)) & mask) !== 0) return false;
  }
  return true;
}

/**
 * Parses the CIDRs of the load balancers in front of Meridian (IPv4 and IPv6; a bare address
 * means that host only). The error names the entry at fault. An empty list trusts nobody:
 * forwarding headers are then never read. Matching is plain integer masking, not
 * node:net's BlockList, whose check costs microseconds on a path every request takes.
 */
export function parseTrustedProxies(cidrs: readonly string[], options: TrustedProxiesOptions = {}): Result<TrustedProxies, string> {
  const v4: V4Net[] = [];
  const v6: V6Net[] = [];
  const parsed: string[] = [];
  for (const [i, entry] of cidrs.entries()) {
    const bad = (why: string): Result<TrustedProxies, string> => err(`trusted proxy ${i} "${entry}": ${why}`);
    const slash = entry.indexOf('/');
    const addrPart = (slash < 0 ? entry : entry.slice(0, slash)).trim();
    const prefixPart = slash < 0 ? undefined : entry.slice(slash + 1).trim();
    const addr = normaliseIp(addrPart);
    if (addr === undefined || addrPart.includes('%')) return bad('not an IPv4 or IPv6 address or CIDR');
    const writtenV6 = addrPart.includes(':');
    const max = writtenV6 ? 128 : 32;
    if (prefixPart !== undefined && !PREFIX.test(prefixPart)) return bad(`prefix "${prefixPart}" is not a number`);
    let prefix = prefixPart === undefined ? max : Number(prefixPart);
    if (prefix > max) return bad(`prefix must be 0-${max} for IPv${writtenV6 ? 6 : 4}`);
    if (addr.includes(':')) {
      v6.push({ hextets: ipv6ToHextets(addr), prefix });
    } else {
      // ::ffff:a.b.c.d/N: addresses are normalised to IPv4 before matching, so match as IPv4.
      if (writtenV6 && prefix < 96) return bad('an IPv4-mapped IPv6 range must have a prefix of at least 96');
      if (writtenV6) prefix -= 96;
      const mask = v4Mask(prefix);
      v4.push({ net: (ipv4ToUint32(addr) & mask) >>> 0, mask });
    }
    parsed.push(`${addr}/${prefix}`);
  }
  return ok({
    cidrs: Object.freeze(parsed),
    header: options.header ?? 'x-forwarded-for',
    contains: (ip, family) => {
      if (family === 4) {
        if (v4.length === 0) return false;
        const a = ipv4ToUint32(ip);
        for (const n of v4) if (((a & n.mask) >>> 0) === n.net) return true;
        return false;
      }
      if (v6.length === 0) return false;
      const a = ipv6ToHextets(ip);
      for (const n of v6) if (inV6(a, n)) return true;
      return false;
    },
  });
}
