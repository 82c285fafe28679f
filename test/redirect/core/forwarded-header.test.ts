import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseForwardedElement } from '../../../src/redirect/core/forwarded-header.js';
import { ipv4ToUint32, ipv6ToHextets, normaliseIp, parseForwardedForHop } from '../../../src/model/ip-address.js';

describe('normaliseIp', () => {
  const cases: [string, string | undefined][] = [
    ['192.0.2.43', '192.0.2.43'],
    ['::ffff:192.0.2.43', '192.0.2.43'],
    ['::FFFF:192.0.2.43', '192.0.2.43'],
    ['0:0:0:0:0:ffff:192.0.2.43', '192.0.2.43'],
    ['::ffff:c000:22b', '192.0.2.43'],
    ['2001:DB8::1', '2001:db8::1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['::1', '::1'],
    ['01.2.3.4', undefined],
    ['1.2.3', undefined],
    ['', undefined],
    ['unknown', undefined],
  ];
  for (const [raw, e] of cases) it(JSON.stringify(raw), () => assert.equal(normaliseIp(raw), e));
});

describe('parseForwardedForHop', () => {
  const cases: [string, string | undefined][] = [
    [' 203.0.113.7 ', '203.0.113.7'],
    ['203.0.113.7:51234', '203.0.113.7'],
    ['2001:db8::7', '2001:db8::7'],
    ['[2001:db8::7]', '2001:db8::7'],
    ['[2001:db8::7]:443', '2001:db8::7'],
    ['[203.0.113.7]', undefined],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['unknown', undefined],
    ['_hidden', undefined],
    ['', undefined],
    ['evil.example', undefined],
    ['203.0.113.7:port', undefined],
  ];
  for (const [raw, e] of cases) it(JSON.stringify(raw), () => assert.equal(parseForwardedForHop(raw), e));
});

describe('parseForwardedElement (RFC 7239)', () => {
  const cases: [string, string | undefined][] = [
    ['for=192.0.2.43', '192.0.2.43'],
    [' for=192.0.2.43 ', '192.0.2.43'],
    ['For=192.0.2.43', '192.0.2.43'],
    ['for="192.0.2.43:8080"', '192.0.2.43'],
    ['for="[2001:db8::1]:4711";proto=https', '2001:db8::1'],
    ['for="[2001:db8:cafe::17]"', '2001:db8:cafe::17'],
    ['proto=https;for=198.51.100.17;by=203.0.113.60', '198.51.100.17'],
    ['for="\\[2001:db8::1\\]"', '2001:db8::1'],
    ['for="[::ffff:192.0.2.43]"', '192.0.2.43'],
    ['for="[2001:db8::1]:_port"', '2001:db8::1'],
    ['for="2001:db8::1"', '2001:db8::1'],
    ['for=unknown', undefined],
    ['for="unknown"', undefined],
    ['for=_hidden', undefined],
    ['for="_SEVKISEK"', undefined],
    ['proto=https', undefined],
    ['for=', undefined],
    ['for="192.0.2.43', undefined],
    ['for="[2001:db8::1"', undefined],
    ['for=[192.0.2.43]', undefined],
    ['for=192.0.2.43;for=198.51.100.1', undefined],
    ['garbage', undefined],
    ['for=evil.example', undefined],
  ];
  for (const [raw, e] of cases) it(JSON.stringify(raw), () => assert.equal(parseForwardedElement(raw), e));
});

describe('ipv4ToUint32 and ipv6ToHextets', () => {
  it('converts IPv4', () => {
    assert.equal(ipv4ToUint32('0.0.0.0'), 0);
    assert.equal(ipv4ToUint32('255.255.255.255'), 0xffffffff);
    assert.equal(ipv4ToUint32('192.0.2.43'), 0xc000022b);
  });
  const v6: [string, number[]][] = [
    ['::', [0, 0, 0, 0, 0, 0, 0, 0]],
    ['::1', [0, 0, 0, 0, 0, 0, 0, 1]],
    ['2001:db8::', [0x2001, 0xdb8, 0, 0, 0, 0, 0, 0]],
    ['2001:db8::1:2', [0x2001, 0xdb8, 0, 0, 0, 0, 1, 2]],
    ['1:2:3:4:5:6:7:8', [1, 2, 3, 4, 5, 6, 7, 8]],
    ['64:ff9b::192.0.2.1', [0x64, 0xff9b, 0, 0, 0, 0, 0xc000, 0x201]],
  ];
  for (const [ip, e] of v6) it(ip, () => assert.deepEqual(ipv6ToHextets(ip), e));
});
