import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nonPublicKind } from '../../src/adapters/geoip/address-ranges.js';
import { ipFamily, ipv4ToUint32, ipv6ToHextets, normaliseIp } from '../../src/model/ip-address.js';

/** Network-order bytes of a normalised address, from the shared parsers. */
function bytesOf(ip: string): number[] {
  if (ipFamily(ip) === 4) {
    const n = ipv4ToUint32(ip);
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  }
  return ipv6ToHextets(ip).flatMap((g) => [g >> 8, g & 0xff]);
}

test('IPv4 and IPv6 addresses normalise to the text the reader takes, and parse to their bytes', () => {
  const cases: [string, 4 | 6, number[], string][] = [
    ['8.8.8.8', 4, [8, 8, 8, 8], '8.8.8.8'],
    ['0.0.0.0', 4, [0, 0, 0, 0], '0.0.0.0'],
    ['255.255.255.255', 4, [255, 255, 255, 255], '255.255.255.255'],
    ['::ffff:133.11.0.5', 4, [133, 11, 0, 5], '133.11.0.5'],
    ['::FFFF:850b:0005', 4, [133, 11, 0, 5], '133.11.0.5'],
    ['2001:db8::1', 6, [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], '2001:db8::1'],
    ['::', 6, new Array<number>(16).fill(0), '::'],
    ['::1', 6, [...new Array<number>(15).fill(0), 1], '::1'],
    ['fe80::1%eth0', 6, [0xfe, 0x80, ...new Array<number>(13).fill(0), 1], 'fe80::1'],
    ['1:2:3:4:5:6:7:8', 6, [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8], '1:2:3:4:5:6:7:8'],
    ['64:ff9b::192.0.2.33', 6, [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 33], '64:ff9b::192.0.2.33'],
  ];
  for (const [text, family, bytes, lookupText] of cases) {
    const ip = normaliseIp(text);
    assert.equal(ip, lookupText, text);
    assert.equal(ipFamily(lookupText), family, text);
    assert.deepEqual(bytesOf(lookupText), bytes, text);
  }
});

test('anything else is refused', () => {
  const bad = [
    '', ' 8.8.8.8', '8.8.8.8 ', '8.8.8', '8.8.8.8.8', '256.1.1.1', '01.2.3.4', '1.2.3.-4', '1.2.3.4/24', '8.8.8.8:443',
    'localhost', 'example.com', '[::1]', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '12345::', 'g::1',
    '1.2.3.4::', '::1.2.3', '1:2:3:4:5:6:7::8', 'fe80::1%', 'fe80::1%eth 0', 'x'.repeat(200), '1.2.3.4, 5.6.7.8', '\u0661.2.3.4',
    `::${'0:'.repeat(30)}1`,
  ];
  for (const text of bad) assert.equal(normaliseIp(text), undefined, JSON.stringify(text));
});

test('private, loopback, link-local, CGNAT, ULA and other special addresses are not public', () => {
  const cases: [string, string | undefined][] = [
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', undefined],
    ['192.168.1.1', 'private'],
    ['127.0.0.1', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.255', 'carrier-grade NAT'],
    ['100.128.0.1', undefined],
    ['0.0.0.0', 'this network'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['198.51.100.7', 'documentation'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fd12:3456:789a::1', 'unique local'],
    ['fc00::1', 'unique local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf::1', 'link-local'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['8.8.8.8', undefined],
    ['133.11.0.1', undefined],
    ['2001:4860:4860::8888', undefined],
    ['::ffff:8.8.8.8', undefined],
  ];
  for (const [text, kind] of cases) {
    const ip = normaliseIp(text);
    assert.ok(ip, text);
    assert.equal(nonPublicKind(ip), kind, text);
  }
});
