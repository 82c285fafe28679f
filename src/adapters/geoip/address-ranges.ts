import { parseCidrSet, type CidrSet } from '../../model/cidr-set.js';
import { ipFamily } from '../../model/ip-address.js';

// Addresses that never locate a client on the public Internet (RFC 6890 special-purpose
// registries): the redirect sends these to the default region without a lookup.
const NON_PUBLIC: readonly (readonly [string, string])[] = [
  ['0.0.0.0/8', 'this network'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'carrier-grade NAT'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'IETF protocol assignments'],
  ['192.0.2.0/24', 'documentation'],
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'benchmarking'],
  ['198.51.100.0/24', 'documentation'],
  ['203.0.113.0/24', 'documentation'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'],
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['64:ff9b:1::/48', 'local-use NAT64'],
  ['100::/64', 'discard-only'],
  ['2001:db8::/32', 'documentation'],
  ['fc00::/7', 'unique local'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'site-local'],
  ['ff00::/8', 'multicast'],
];

function build(): CidrSet<string> {
  const set = parseCidrSet(NON_PUBLIC);
  // The table is constant: a bad entry is a bug, found by the first test that imports this.
  if (!set.ok) throw new Error(`Bad non-public range ${set.error.entry}: ${set.error.why}`);
  return set.value;
}
const RANGES = build();

/** Why a normalised address (see normaliseIp) is not a public one ('private', 'loopback', ...), or undefined when it is public. */
export function nonPublicKind(ip: string): string | undefined {
  const family = ipFamily(ip);
  return family === undefined ? undefined : RANGES.match(ip, family);
}
