import { parseForwardedElement } from './forwarded-header.js';
import { normalisedFamily, normaliseIp, parseForwardedForHop } from '../../model/ip-address.js';
import type { ForwardingHeader, TrustedProxies } from './trusted-proxies.js';

export interface ClientAddressInput {
  /** `request.socket.remoteAddress`. */
  readonly socketAddress: string;
  readonly headers: {
    readonly 'x-forwarded-for'?: string | readonly string[];
    readonly forwarded?: string | readonly string[];
  };
  readonly trusted: TrustedProxies;
}

export interface ClientAddress {
  readonly ip: string;
  readonly source: 'socket' | ForwardingHeader;
}

/** A longer chain than this is not a real proxy path; stop and use what was reached. */
export const MAX_FORWARDED_HOPS = 32;

/** `ip` as normaliseIp returned it. */
function isTrusted(trusted: TrustedProxies, ip: string): boolean {
  return trusted.contains(ip, normalisedFamily(ip));
}

/** Whether the socket peer is a trusted proxy, whose forwarding header clientAddress reads. */
export function isTrustedPeer(socketAddress: string, trusted: TrustedProxies): boolean {
  const peer = normaliseIp(socketAddress);
  return peer !== undefined && isTrusted(trusted, peer);
}

/**
 * The client's address. Forwarding headers count only when the socket peer is a trusted
 * proxy; then the chain is walked from the right (the hop our own proxy wrote) past trusted
 * hops, and the first untrusted address is the client. Anything to its left is client-written
 * and ignored. A malformed hop (garbage, `unknown`, `_obfuscated`) ends the walk at the last
 * good address. Never throws.
 */
export function clientAddress(input: ClientAddressInput): ClientAddress {
  const { trusted } = input;
  const peer = normaliseIp(input.socketAddress);
  // Cheap path: an untrusted peer's headers are never even looked at.
  if (peer === undefined || !isTrusted(trusted, peer)) return { ip: peer ?? input.socketAddress, source: 'socket' };

  const header = trusted.header;
  const values = input.headers[header];
  if (values === undefined || values.length === 0) return { ip: peer, source: 'socket' };
  const parse = header === 'forwarded' ? parseForwardedElement : parseForwardedForHop;

  let current = peer;
  let fromHeader = false;
  let hops = 0;
  // Several header lines form one list, in order; walk the last line first.
  const lines: readonly string[] = typeof values === 'string' ? [values] : values;
  walk: for (let li = lines.length - 1; li >= 0; li--) {
    const line = lines[li] ?? '';
    let end = line.length;
    for (;;) {
      if (++hops > MAX_FORWARDED_HOPS) break walk;
      const comma = end > 0 ? line.lastIndexOf(',', end - 1) : -1;
      const ip = parse(line.slice(comma + 1, end));
      if (ip === undefined) break walk;
      current = ip;
      fromHeader = true;
      if (!isTrusted(trusted, ip)) break walk;
      if (comma < 0) break;
      end = comma;
    }
  }
  return { ip: current, source: fromHeader ? header : 'socket' };
}
