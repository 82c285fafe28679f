import { isIP } from 'node:net';

/**
 * One spelling per address, so trust checks, GeoIP lookups and client keys agree:
 * lower-case IPv6 without a zone, and IPv4-mapped IPv6 (`::ffff:1.2.3.4`, as dual-stack
 * sockets report IPv4 peers) as plain IPv4. Undefined when it is not an IP address.
 */
export function normaliseIp(raw: string): string | undefined {
  // Most addresses are plain IPv4: checked by hand, as node:net's isIP runs a regular expression.
  if (isDottedQuad(raw)) return raw;
  // The longest IPv6 text is 45 characters; leave room for a zone, refuse the rest unread.
  if (raw.length > MAX_ADDRESS_LENGTH) return undefined;
  const zone = raw.indexOf('%');
  if (zone >= 0 && !ZONE.test(raw.slice(zone + 1))) return undefined;
  const s = zone < 0 ? raw : raw.slice(0, zone);
  const family = isIP(s);
  if (family === 4) return s;
  if (family !== 6) return undefined;
  const lower = s.toLowerCase();
  // The mapped forms' expressions run only when one could match.
  return lower.includes('ffff:') ? (mappedIpv4(lower) ?? lower) : lower;
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
  if (isDottedQuad(ip)) return 4;
  return isIP(ip) === 6 ? 6 : undefined;
}

/** The family of an address normaliseIp returned: it wrote IPv4 (and mapped IPv4) as a dotted quad. */
export function normalisedFamily(ip: string): 4 | 6 {
  return ip.includes(':') ? 6 : 4;
}

/** What node:net's isIPv4 accepts: four decimal parts of 0-255, no leading zeros, nothing else. */
export function isDottedQuad(s: string): boolean {
  const n = s.length;
  if (n < 7 || n > 15) return false;
  let parts = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? s.charCodeAt(i) : 46; /* . */
    if (c === 46) {
      if (digits === 0 || ++parts > 4) return false;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      // "0" alone, but no "01".
      if (digits === 1 && value === 0) return false;
      value = value * 10 + (c - 48);
      if (++digits > 3 || value > 255) return false;
    } else return false;
  }
  return parts === 4;
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
  return Array.from(ipv6HextetsInto(ip, new Uint16Array(8)));
}

/**
 * ipv6ToHextets into a caller's buffer, one pass and no allocation (the GeoIP lookup of every
 * login from an IPv6 client runs it). `ip` must be valid, as checked by normaliseIp.
 */
export function ipv6HextetsInto(ip: string, out: Uint16Array): Uint16Array {
  let n = 0;
  let gap = -1;
  let value = 0;
  let digits = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 58 /* : */) {
      if (digits > 0) out[n++] = value;
      value = digits = 0;
      if (ip.charCodeAt(i + 1) === 58) {
        gap = n;
        i++;
      }
    } else if (c === 46 /* . */) {
      // The group being read is the first octet of an IPv4 tail: the rest of the string.
      const v4 = ipv4ToUint32(ip.slice(ip.lastIndexOf(':', i) + 1));
      out[n++] = v4 >>> 16;
      out[n++] = v4 & 0xffff;
      digits = 0;
      break;
    } else {
      value = value * 16 + (c <= 57 ? c - 48 : (c | 32) - 87);
      digits++;
    }
  }
  if (digits > 0) out[n++] = value;
  if (gap < 0) return out;
  // Move the groups after `::` to the end (from the last, so none is overwritten before it moves), then zero the gap.
  const tail = n - gap;
  for (let k = 1; k <= tail; k++) out[8 - k] = out[n - k] ?? 0;
  out.fill(0, gap, 8 - tail);
  return out;
}
