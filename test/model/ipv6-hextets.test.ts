import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { describe, it } from 'node:test';
import { ipv6HextetsInto, ipv6ToHextets, normaliseIp } from '../../src/model/ip-address.js';

/** The plain reading: split on `::`, then on `:`, an IPv4 tail as two groups. */
function reference(ip: string): number[] {
  const groups = (s: string): number[] =>
    s === ''
      ? []
      : s.split(':').flatMap((g) => {
          if (!g.includes('.')) return [parseInt(g, 16)];
          const [a = 0, b = 0, c = 0, d = 0] = g.split('.').map(Number);
          return [(a << 8) | b, (c << 8) | d];
        });
  const gap = ip.indexOf('::');
  if (gap < 0) return groups(ip);
  const head = groups(ip.slice(0, gap));
  const tail = groups(ip.slice(gap + 2));
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

/** A random IPv6 address written the way clients and proxies write them: compressed or not, any case, sometimes with an IPv4 tail. */
function randomIpv6(rand: () => number): string {
  const g = Array.from({ length: 8 }, () => (rand() < 0.3 ? 0 : Math.floor(rand() * 0x10000)));
  let parts = g.map((x) => x.toString(16));
  if (rand() < 0.3) parts = parts.map((p) => p.toUpperCase());
  if (rand() < 0.2) parts = [...parts.slice(0, 6), `${g[6]! >> 8}.${g[6]! & 0xff}.${g[7]! >> 8}.${g[7]! & 0xff}`];
  const text = parts.join(':');
  if (rand() < 0.6) {
    const from = Math.floor(rand() * 7);
    const len = 1 + Math.floor(rand() * (Math.min(8, parts.length + 1) - from - 1));
    const cut = [...parts.slice(0, from), '', ...parts.slice(from + len)];
    const joined = cut.join(':');
    const fixed = joined.startsWith(':') ? `:${joined}` : joined.endsWith(':') ? `${joined}:` : joined;
    if (isIP(fixed) === 6) return fixed;
  }
  return text;
}

describe('ipv6HextetsInto', () => {
  it('reads every spelling as the plain reading does, into the same buffer each time', () => {
    let seed = 7;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const buffer = new Uint16Array(8);
    let checked = 0;
    for (let i = 0; i < 20_000; i++) {
      const ip = normaliseIp(randomIpv6(rand));
      // IPv4-mapped addresses normalise to IPv4 and never reach the IPv6 reading.
      if (ip === undefined || !ip.includes(':')) continue;
      assert.deepEqual(Array.from(ipv6HextetsInto(ip, buffer)), reference(ip), ip);
      checked++;
    }
    assert.ok(checked > 15_000, `only ${checked} addresses checked`);
  });

  it('expands the edge spellings', () => {
    assert.deepEqual(ipv6ToHextets('::'), [0, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(ipv6ToHextets('::1'), [0, 0, 0, 0, 0, 0, 0, 1]);
    assert.deepEqual(ipv6ToHextets('fe80::'), [0xfe80, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(ipv6ToHextets('64:ff9b::192.0.2.33'), [0x64, 0xff9b, 0, 0, 0, 0, 0xc000, 0x0221]);
    assert.deepEqual(ipv6ToHextets('2001:DB8:0:0:1:0:0:1'), [0x2001, 0xdb8, 0, 0, 1, 0, 0, 1]);
  });
});
