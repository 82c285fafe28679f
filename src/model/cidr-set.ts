import { ipv4ToUint32, ipv6HextetsInto, ipv6ToHextets, normaliseIp } from './ip-address.js';
import { err, ok, type Result } from './result.js';

/** A list of IPv4 and IPv6 networks, each with a label; matching is plain integer masking. */
export interface CidrSet<L> {
  /** The entries as parsed (a bare address becomes a /32 or /128). */
  readonly cidrs: readonly string[];
  /** The label of the first network holding a normalised address (see normaliseIp), or undefined. */
  match(ip: string, family: 4 | 6): L | undefined;
}

interface V4Net<L> {
  readonly net: number;
  readonly mask: number;
  readonly label: L;
}
interface V6Net<L> {
  readonly hextets: readonly number[];
  readonly prefix: number;
  readonly label: L;
}

const PREFIX = /^\d{1,3}$/;

function v4Mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

function inV6<L>(addr: ArrayLike<number>, n: V6Net<L>): boolean {
  for (let i = 0, left = n.prefix; left > 0; i++, left -= 16) {
    const bits = left >= 16 ? 16 : left;
    const mask = (0xffff << (16 - bits)) & 0xffff;
    if ((((addr[i] ?? 0) ^ (n.hextets[i] ?? 0)) & mask) !== 0) return false;
  }
  return true;
}

/** Why one entry of a CIDR list was refused, and which. */
export interface CidrProblem {
  readonly index: number;
  readonly entry: string;
  readonly why: string;
}

/**
 * Parses `[cidr, label]` pairs (a bare address means that host only). Not node:net's BlockList:
 * its check costs microseconds, and the redirect asks on every request.
 */
export function parseCidrSet<L>(entries: readonly (readonly [string, L])[]): Result<CidrSet<L>, CidrProblem> {
  const v4: V4Net<L>[] = [];
  const v6: V6Net<L>[] = [];
  const parsed: string[] = [];
  for (const [index, [entry, label]] of entries.entries()) {
    const bad = (why: string): Result<CidrSet<L>, CidrProblem> => err({ index, entry, why });
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
      v6.push({ hextets: ipv6ToHextets(addr), prefix, label });
    } else {
      // ::ffff:a.b.c.d/N: addresses are normalised to IPv4 before matching, so match as IPv4.
      if (writtenV6 && prefix < 96) return bad('an IPv4-mapped IPv6 range must have a prefix of at least 96');
      if (writtenV6) prefix -= 96;
      const mask = v4Mask(prefix);
      v4.push({ net: (ipv4ToUint32(addr) & mask) >>> 0, mask, label });
    }
    parsed.push(`${addr}/${prefix}`);
  }
  // match is synchronous: one buffer serves every call.
  const scratch = new Uint16Array(8);
  return ok({
    cidrs: Object.freeze(parsed),
    match: (ip, family) => {
      if (family === 4) {
        if (v4.length === 0) return undefined;
        const a = ipv4ToUint32(ip);
        for (const n of v4) if (((a & n.mask) >>> 0) === n.net) return n.label;
        return undefined;
      }
      if (v6.length === 0) return undefined;
      const a = ipv6HextetsInto(ip, scratch);
      for (const n of v6) if (inV6(a, n)) return n.label;
      return undefined;
    },
  });
}
