import type { Result } from '../../model/result.js';
import { err, ok } from '../../model/result.js';

export interface ClientAddress {
  readonly family: 4 | 6;
  /** 4 or 16 bytes, network order. */
  readonly bytes: readonly number[];
  /** The address as the MaxMind reader takes it: dotted IPv4 (also for IPv4-mapped IPv6), IPv6 without a zone. */
  readonly lookupText: string;
}

// The longest IPv6 text is 45 characters; leave room for a zone id, refuse the rest
// before any parsing (the string comes from a client header).
const MAX_TEXT_LENGTH = 64;

/** Parses one IP address as found in a socket address or one X-Forwarded-For entry. */
export function parseClientAddress(text: string): Result<ClientAddress, string> {
  if (text.length === 0) return err('empty address');
  if (text.length > MAX_TEXT_LENGTH) return err(`address longer than ${MAX_TEXT_LENGTH} characters`);
  if (!text.includes(':')) {
    const bytes = parseIpv4(text);
    return bytes ? ok({ family: 4, bytes, lookupText: text }) : err(`not an IP address: ${JSON.stringify(text)}`);
  }
  const zoneAt = text.indexOf('%');
  const bare = zoneAt === -1 ? text : text.slice(0, zoneAt);
  if (zoneAt !== -1 && !/^[0-9A-Za-z._~-]+$/.test(text.slice(zoneAt + 1))) return err(`bad IPv6 zone in ${JSON.stringify(text)}`);
  const bytes = parseIpv6(bare);
  if (!bytes) return err(`not an IP address: ${JSON.stringify(text)}`);
  // Dual-stack sockets report IPv4 clients as ::ffff:a.b.c.d; look those up as IPv4.
  if (isIpv4Mapped(bytes)) {
    const v4 = bytes.slice(12);
    return ok({ family: 4, bytes: v4, lookupText: v4.join('.') });
  }
  return ok({ family: 6, bytes, lookupText: bare });
}

function parseIpv4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes: number[] = [];
  for (const part of parts) {
    // No leading zeros: "010" is octal to some parsers and decimal to others.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    bytes.push(n);
  }
  return bytes;
}

function parseGroups(text: string): number[] | undefined {
  if (text === '') return [];
  const groups: number[] = [];
  const parts = text.split(':');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] ?? '';
    if (i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIpv4(part);
      if (!v4) return undefined;
      groups.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
    } else {
      if (!/^[0-9A-Fa-f]{1,4}$/.test(part)) return undefined;
      groups.push(parseInt(part, 16));
    }
  }
  return groups;
}

function parseIpv6(text: string): number[] | undefined {
  const gap = text.indexOf('::');
  let groups: number[] | undefined;
  if (gap === -1) {
    groups = parseGroups(text);
    if (!groups || groups.length !== 8) return undefined;
  } else {
    if (text.indexOf('::', gap + 1) !== -1) return undefined;
    const headText = text.slice(0, gap);
    // A dotted IPv4 tail may only end the address.
    if (headText.includes('.')) return undefined;
    const head = parseGroups(headText);
    const tail = parseGroups(text.slice(gap + 2));
    // "::" stands for at least one zero group.
    if (!head || !tail || head.length + tail.length > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  const bytes: number[] = [];
  for (const g of groups) bytes.push(g >> 8, g & 0xff);
  return bytes;
}

function isIpv4Mapped(bytes: readonly number[]): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

interface Block {
  readonly prefix: readonly number[];
  readonly length: number;
  readonly what: string;
}

function block(family: 4 | 6, cidr: string, what: string): Block {
  const [addr = '', len = ''] = cidr.split('/');
  const bytes = family === 4 ? parseIpv4(addr) : parseIpv6(addr);
  if (!bytes) throw new Error(`Bad CIDR ${cidr}`);
  return { prefix: bytes, length: Number(len), what };
}

// Addresses that never locate a client on the public Internet (RFC 6890 special-purpose
// registries): the redirect sends these to the default region without a lookup.
const NON_PUBLIC_V4: readonly Block[] = [
  block(4, '0.0.0.0/8', 'this network'),
  block(4, '10.0.0.0/8', 'private'),
  block(4, '100.64.0.0/10', 'carrier-grade NAT'),
  block(4, '127.0.0.0/8', 'loopback'),
  block(4, '169.254.0.0/16', 'link-local'),
  block(4, '172.16.0.0/12', 'private'),
  block(4, '192.0.0.0/24', 'IETF protocol assignments'),
  block(4, '192.0.2.0/24', 'documentation'),
  block(4, '192.168.0.0/16', 'private'),
  block(4, '198.18.0.0/15', 'benchmarking'),
  block(4, '198.51.100.0/24', 'documentation'),
  block(4, '203.0.113.0/24', 'documentation'),
  block(4, '224.0.0.0/4', 'multicast'),
  block(4, '240.0.0.0/4', 'reserved'),
];

const NON_PUBLIC_V6: readonly Block[] = [
  block(6, '::/128', 'unspecified'),
  block(6, '::1/128', 'loopback'),
  block(6, '64:ff9b:1::/48', 'local-use NAT64'),
  block(6, '100::/64', 'discard-only'),
  block(6, '2001:db8::/32', 'documentation'),
  block(6, 'fc00::/7', 'unique local'),
  block(6, 'fe80::/10', 'link-local'),
  block(6, 'fec0::/10', 'site-local'),
  block(6, 'ff00::/8', 'multicast'),
];

function inBlock(bytes: readonly number[], b: Block): boolean {
  const whole = b.length >> 3;
  for (let i = 0; i < whole; i++) if (bytes[i] !== b.prefix[i]) return false;
  const rest = b.length & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((bytes[whole] ?? 0) & mask) === ((b.prefix[whole] ?? 0) & mask);
}

/** Why this address is not a public one ('private', 'loopback', ...), or undefined when it is public. */
export function nonPublicKind(address: ClientAddress): string | undefined {
  for (const b of address.family === 4 ? NON_PUBLIC_V4 : NON_PUBLIC_V6) if (inBlock(address.bytes, b)) return b.what;
  return undefined;
}
