import { isIP } from 'node:net';

/**
 * One spelling per address, so trust checks, GeoIP lookups and client keys agree:
 * lower-case IPv6 without a zone, and IPv4-mapped IPv6 (`::ffff:1.2.3.4`, as dual-stack
 * sockets report IPv4 peers) as plain IPv4. Undefined when it is not an IP address.
 */
export function normaliseIp(raw: string): string | undefined {
  // The longest IPv6 text is 45 characters; leave room for a zone, refuse the rest unread.
  if (raw.length > MAX_ADDRESS_LENGTH) return undefined;
  const zone = raw.indexOf('%');
  if (zone >= 0 && !ZONE.test(raw.slice(zone + 1))) return undefined;
  const s = zone < 0 ? raw : raw.slice(0, zone);
  const family = isIP(s);
  if (family === 4) return s;
  if (family !== 6) return undefined;
  const lower = s.toLowerCase();
  return mappedIpv4(lower) ?? lower;
}

const MAX_ADDRESS_LENGTH = 64;
const ZONE = /^[0-9A-Za-z._~-]+$/;
const MAPPED_DOTTED = /^(?:::|(?:0{1,4}:){5})ffff:(\d{1,3}(?:\.\d{1,3}){3})$/;
const MAPPED_HEX = /^(?:::|(?:0{1,4}:){5})ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;

function mappedIpv4(v6: string): string | undefined {
  const dotted = MAPPED_DOTTED.exec(v6);
  if (dotted?.[1] !== undefined) return isIP(dotted[1]) === 4 ? dotted[1] : undefined;
  const hex = MAPPED_HEX.exec(v6);
  if (hex?.[1] === undefined || hex[2] === undefined) return undefined;
  const hi = parseInt(hex[1], 16);
  const lo = parseInt(hex[2], 16);
  return `${hi >>> 8}.${hi & 255}.${lo >>> 8}.${lo & 255}`;
}

export function ipFamily(ip: string): 4 | 6 | undefined {
  const f = isIP(ip);
  return f === 4 || f === 6 ? f : undefined;
}

const BRACKETED = /^\[([^\]]+)\](?::(\d{1,5}))?$/;
const IPV4_WITH_PORT = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/;

/**
 * One X-Forwarded-For hop. Proxies write a bare address; some add a port
 * (`1.2.3.4:5678`, `[2001:db8::1]:443`), which is tolerated. Anything else is not an address.
 */
export function parseForwardedForHop(entry: string): string | undefined {
  const s = entry.trim();
  const direct = normaliseIp(s);
  if (direct !== undefined) return direct;
  const bracketed = BRACKETED.exec(s);
  if (bracketed?.[1] !== undefined) return isIP(bracketed[1]) === 6 ? normaliseIp(bracketed[1]) : undefined;
  const v4 = IPV4_WITH_PORT.exec(s);
  return v4?.[1] !== undefined ? normaliseIp(v4[1]) : undefined;
}

/** A valid dotted IPv4 address (as checked by normaliseIp) as an unsigned 32-bit number, without splitting strings. */
export function ipv4ToUint32(ip: string): number {
  let acc = 0;
  let part = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46 /* . */) {
      acc = ((acc << 8) | part) >>> 0;
      part = 0;
    } else part = part * 10 + (c - 48);
  }
  return ((acc << 8) | part) >>> 0;
}

/** A valid IPv6 address as its eight 16-bit groups; `::` expanded, an embedded IPv4 tail converted. */
export function ipv6ToHextets(ip: string): number[] {
  const groups = (s: string): number[] => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (g.includes('.')) {
        const v4 = ipv4ToUint32(g);
        out.push(v4 >>> 16, v4 & 0xffff);
      } else out.push(parseInt(g, 16));
    }
    return out;
  };
  const gap = ip.indexOf('::');
  if (gap < 0) return groups(ip);
  const head = groups(ip.slice(0, gap));
  const tail = groups(ip.slice(gap + 2));
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}
