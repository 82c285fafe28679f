import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientAddress, MAX_FORWARDED_HOPS, type ClientAddress, type ClientAddressInput } from '../../../src/redirect/core/client-address.js';
import { parseTrustedProxies, type ForwardingHeader, type TrustedProxies } from '../../../src/redirect/core/trusted-proxies.js';

function trust(cidrs: string[], header: ForwardingHeader = 'x-forwarded-for'): TrustedProxies {
  const r = parseTrustedProxies(cidrs, { header });
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

const LB = ['10.0.0.0/8', 'fd00::/8'];

describe('clientAddress', () => {
  const cases: { name: string; input: ClientAddressInput; expect: ClientAddress }[] = [
    {
      name: 'untrusted socket: headers ignored',
      input: { socketAddress: '198.51.100.9', headers: { 'x-forwarded-for': '203.0.113.7' }, trusted: trust(LB) },
      expect: { ip: '198.51.100.9', source: 'socket' },
    },
    {
      name: 'no trusted proxies configured: headers ignored',
      input: { socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': '203.0.113.7' }, trusted: trust([]) },
      expect: { ip: '10.0.0.1', source: 'socket' },
    },
    {
      name: 'IPv4-mapped socket address normalised',
      input: { socketAddress: '::ffff:198.51.100.9', headers: {}, trusted: trust(LB) },
      expect: { ip: '198.51.100.9', source: 'socket' },
    },
    {
      name: 'IPv4-mapped trusted socket: headers read',
      input: { socketAddress: '::ffff:10.1.2.3', headers: { 'x-forwarded-for': '203.0.113.7' }, trusted: trust(LB) },
      expect: { ip: '203.0.113.7', source: 'x-forwarded-for' },
    },
    {
      name: 'trusted socket, no header',
      input: { socketAddress: '10.0.0.1', headers: {}, trusted: trust(LB) },
      expect: { ip: '10.0.0.1', source: 'socket' },
    },
    {
      name: 'trusted socket, empty header',
      input: { socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': '' }, trusted: trust(LB) },
      expect: { ip: '10.0.0.1', source: 'socket' },
    },
    {
      name: 'trusted chain: skip trusted hops from the right',
      input: { socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': '203.0.113.7, 10.0.0.2, 10.0.0.3' }, trusted: trust(LB) },
      expect: { ip: '203.0.113.7', source: 'x-forwarded-for' },
    },
    {
      name: 'spoofed leftmost entries are ignored',
      input: { socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': '1.1.1.1, 8.8.8.8, 203.0.113.7, 10.0.0.2' }, trusted: trust(LB) },
      expect: { ip: '203.0.113.7', source: 'x-forwarded-for' },
    },
    {
      name: 'a client claiming to be a trusted proxy only gets its real address',
      input: { socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': '10.9.9.9, 203.0.113.7' }, trusted: trust(LB) },
      expect: { ip: '203.0.113.7', source: 'x-forwarded-for' },
    },
    {
      name: 'several header lines form one list',
      input: { socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': ['6.6.6.6, 203.0.113.7', '10.0.0.2'] }, trusted: trust(LB) },
      expect: { ip: '203.0.113.7', source: 'x-forwarded-for' },
    },
    {
      name: 'every hop trusted: the leftmost',
      input: { socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': '10.0.0.9, 10.0.0.2' }, trusted: trust(LB) },
      expect: { ip: '10.0.0.9', source: 'x-forwarded-for' },
    },
    {
      name: 'IPv6 hops, mapped and bracketed',
      input: { socketAddress: 'fd00::1', headers: { 'x-forwarded-for': '2001:db8::7, ::ffff:10.0.0.2, [fd00::2]:443' }, trusted: trust(LB) },
      expect: { ip: '2001:db8::7', source: 'x-forwarded-for' },
    },
    {
      name: 'garbage right of the client: stop at the nearest valid address',
      input: { socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': '203.0.113.7, garbage, 10.0.0.2' }, trusted: trust(LB) },
      expect: { ip: '10.0.0.2', source: 'x-forwarded-for' },
    },
    {
      name: 'garbage as the rightmost hop: the socket',
      input: { socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': '203.0.113.7, <script>' }, trusted: trust(LB) },
      expect: { ip: '10.0.0.1', source: 'socket' },
    },
    {
      name: 'empty entry (trailing comma) stops the walk',
      input: { socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': '203.0.113.7,' }, trusted: trust(LB) },
      expect: { ip: '10.0.0.1', source: 'socket' },
    },
    {
      name: 'unknown stops the walk',
      input: { socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': '203.0.113.7, unknown' }, trusted: trust(LB) },
      expect: { ip: '10.0.0.1', source: 'socket' },
    },
    {
      name: 'the header the proxies do not write is never read (Forwarded forged, XFF configured)',
      input: { socketAddress: '10.0.0.1', headers: { forwarded: 'for=6.6.6.6', 'x-forwarded-for': '203.0.113.7' }, trusted: trust(LB) },
      expect: { ip: '203.0.113.7', source: 'x-forwarded-for' },
    },
    {
      name: 'Forwarded: IPv6 with port, then IPv4',
      input: { socketAddress: '10.0.0.1', headers: { forwarded: 'for="[2001:db8::1]:4711";proto=https, for=10.0.0.2' }, trusted: trust(LB, 'forwarded') },
      expect: { ip: '2001:db8::1', source: 'forwarded' },
    },
    {
      name: 'Forwarded: RFC 7239 example, rightmost untrusted wins',
      input: { socketAddress: '10.0.0.1', headers: { forwarded: 'for="_gazonk", For="[2001:db8:cafe::17]:4711", for=192.0.2.43;proto=http;by=203.0.113.43' }, trusted: trust(LB, 'forwarded') },
      expect: { ip: '192.0.2.43', source: 'forwarded' },
    },
    {
      name: 'Forwarded: obfuscated identifier stops the walk',
      input: { socketAddress: '10.0.0.1', headers: { forwarded: 'for=203.0.113.7, for=_hidden, for=10.0.0.2' }, trusted: trust(LB, 'forwarded') },
      expect: { ip: '10.0.0.2', source: 'forwarded' },
    },
    {
      name: 'Forwarded: unknown stops the walk',
      input: { socketAddress: '10.0.0.1', headers: { forwarded: 'for=203.0.113.7, for=unknown' }, trusted: trust(LB, 'forwarded') },
      expect: { ip: '10.0.0.1', source: 'socket' },
    },
    {
      name: 'Forwarded: quoted garbage with commas and semicolons',
      input: { socketAddress: '10.0.0.1', headers: { forwarded: 'for="a,b;c", for=203.0.113.7' }, trusted: trust(LB, 'forwarded') },
      expect: { ip: '203.0.113.7', source: 'forwarded' },
    },
    {
      name: 'Forwarded: XFF ignored when Forwarded is configured',
      input: { socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': '6.6.6.6' }, trusted: trust(LB, 'forwarded') },
      expect: { ip: '10.0.0.1', source: 'socket' },
    },
    {
      name: 'socket address that is not an IP: returned as is, headers ignored',
      input: { socketAddress: 'garbage', headers: { 'x-forwarded-for': '203.0.113.7' }, trusted: trust(LB) },
      expect: { ip: 'garbage', source: 'socket' },
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(clientAddress(c.input), c.expect));

  it(`stops after ${MAX_FORWARDED_HOPS} hops`, () => {
    const chain = ['203.0.113.7', ...Array.from({ length: 100 }, (_, i) => `10.0.${i >> 8}.${i & 255}`)].join(', ');
    const r = clientAddress({ socketAddress: '10.0.0.1', headers: { 'x-forwarded-for': chain }, trusted: trust(LB) });
    assert.equal(r.source, 'x-forwarded-for');
    assert.ok(r.ip.startsWith('10.'), r.ip);
  });

  it('never throws on hostile headers', () => {
    const hostile = ['', ',', ',,,,', '[', ']', '[::1', '"', 'for=', 'for="', '\u0000', '1.2.3.4'.repeat(1000), ',' + 'x'.repeat(100000)];
    for (const h of hostile) {
      for (const header of ['x-forwarded-for', 'forwarded'] as const) {
        const r = clientAddress({ socketAddress: '10.0.0.1', headers: { [header]: h }, trusted: trust(LB, header) });
        assert.equal(typeof r.ip, 'string');
      }
    }
  });
});
