import { isIP } from 'node:net';
import { normaliseIp } from '../../model/ip-address.js';

// RFC 7239 §6: node = nodename [ ":" node-port ]; a port is digits or an obfuscated "_token".
const PORT = '(?:\\d{1,5}|_[A-Za-z0-9._-]+)';
const BRACKETED_NODE = new RegExp(`^\\[([^\\]]+)\\](?::${PORT})?$`);
const IPV4_NODE = new RegExp(`^(\\d{1,3}(?:\\.\\d{1,3}){3})(?::${PORT})?$`);

const QUOTED_PAIR = /\\(.)/g;

function unquote(v: string): string | undefined {
  if (!v.startsWith('"')) return v;
  if (v.length < 2 || !v.endsWith('"')) return undefined;
  // quoted-pair: a backslash escapes the next character.
  return v.slice(1, -1).replace(QUOTED_PAIR, '$1');
}

/**
 * The client address in one `Forwarded` element (`for="[2001:db8::1]:4711";proto=https`).
 * Undefined when the element has no usable `for`: missing, `unknown`, an obfuscated
 * `_identifier`, or not an address. The caller stops its walk there.
 */
export function parseForwardedElement(element: string): string | undefined {
  let value: string | undefined;
  for (const pair of element.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    if (pair.slice(0, eq).trim().toLowerCase() !== 'for') continue;
    // Two `for` parameters in one element is malformed (RFC 7239 §4): trust neither.
    if (value !== undefined) return undefined;
    value = pair.slice(eq + 1).trim();
  }
  if (value === undefined) return undefined;
  const node = unquote(value);
  if (node === undefined || node === '' || node.toLowerCase() === 'unknown' || node.startsWith('_')) return undefined;
  const bracketed = BRACKETED_NODE.exec(node);
  if (bracketed?.[1] !== undefined) return isIP(bracketed[1]) === 6 ? normaliseIp(bracketed[1]) : undefined;
  const v4 = IPV4_NODE.exec(node);
  if (v4?.[1] !== undefined) return normaliseIp(v4[1]);
  // Lenient: some proxies write a bare IPv6 address without the required brackets.
  return isIP(node) === 6 ? normaliseIp(node) : undefined;
}
