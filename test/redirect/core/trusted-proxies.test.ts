import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTrustedProxies } from '../../../src/redirect/core/trusted-proxies.js';

describe('parseTrustedProxies', () => {
  it('parses IPv4 and IPv6 CIDRs and bare addresses', () => {
    const r = parseTrustedProxies(['10.0.0.0/8', ' 192.168.1.10 ', '2001:db8::/32', '::1', '::ffff:172.16.0.0/108']);
    assert.equal(r.ok, true);
    if (!r.ok) return;
    assert.deepEqual(r.value.cidrs, ['10.0.0.0/8', '192.168.1.10/32', '2001:db8::/32', '::1/128', '172.16.0.0/12']);
    assert.equal(r.value.header, 'x-forwarded-for');
    const cases: [string, 4 | 6, boolean][] = [
      ['10.255.0.1', 4, true],
      ['11.0.0.1', 4, false],
      ['192.168.1.10', 4, true],
      ['192.168.1.11', 4, false],
      ['2001:db8:1::5', 6, true],
      ['2001:db9::5', 6, false],
      ['::1', 6, true],
      ['172.31.255.255', 4, true],
      ['172.32.0.1', 4, false],
    ];
    for (const [ip, family, expect] of cases) assert.equal(r.value.contains(ip, family), expect, ip);
  });

  it('matches prefixes that do not fall on a group boundary, and catch-alls', () => {
    const r = parseTrustedProxies(['2001:db8:8000::/33', '10.1.2.3/8', '64:ff9b::/96', '0.0.0.0/0']);
    assert.equal(r.ok, true);
    if (!r.ok) return;
    const cases: [string, 4 | 6, boolean][] = [
      ['2001:db8:8000::1', 6, true],
      ['2001:db8:ffff:ffff::1', 6, true],
      ['2001:db8:7fff::1', 6, false],
      ['64:ff9b::192.0.2.1', 6, true],
      ['64:ff9c::1', 6, false],
      ['10.200.0.1', 4, true],
      ['203.0.113.7', 4, true],
    ];
    for (const [ip, family, expect] of cases) assert.equal(r.value.contains(ip, family), expect, ip);
    const all6 = parseTrustedProxies(['::/0']);
    assert.equal(all6.ok && all6.value.contains('2001:db8::1', 6), true);
    assert.equal(all6.ok && all6.value.contains('10.0.0.1', 4), false);
  });

  it('takes the header the proxies write', () => {
    const r = parseTrustedProxies([], { header: 'forwarded' });
    assert.equal(r.ok && r.value.header, 'forwarded');
  });

  it('an empty list trusts no one', () => {
    const r = parseTrustedProxies([]);
    assert.equal(r.ok && r.value.contains('10.0.0.1', 4), false);
  });

  const bad: [string[], RegExp][] = [
    [['10.0.0.0/33'], /^trusted proxy 0 "10\.0\.0\.0\/33": prefix must be 0-32 for IPv4$/],
    [['10.0.0.0/8', '::/129'], /^trusted proxy 1 "::\/129": prefix must be 0-128 for IPv6$/],
    [['garbage'], /trusted proxy 0 "garbage": not an IPv4 or IPv6 address or CIDR/],
    [['10.0.0.0/'], /prefix "" is not a number/],
    [['10.0.0.0/8x'], /prefix "8x" is not a number/],
    [['10.0.0.0/-1'], /prefix "-1" is not a number/],
    [['10.0.0.256/24'], /not an IPv4 or IPv6 address/],
    [['010.0.0.1'], /not an IPv4 or IPv6 address/],
    [['fe80::1%eth0'], /not an IPv4 or IPv6 address/],
    [[''], /trusted proxy 0 "": not an IPv4/],
    [['::ffff:10.0.0.0/64'], /IPv4-mapped IPv6 range must have a prefix of at least 96/],
  ];
  for (const [cidrs, message] of bad) {
    it(`refuses ${JSON.stringify(cidrs)}`, () => {
      const r = parseTrustedProxies(cidrs);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.error, message);
    });
  }
});
