import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { describe, it } from 'node:test';
import { ipFamily, isDottedQuad, normalisedFamily, normaliseIp } from '../../src/model/ip-address.js';
import { Prng } from '../../src/sim/prng.js';

describe('dotted quads checked by hand', () => {
  it('agrees with node:net on edge cases', () => {
    const cases = ['0.0.0.0', '255.255.255.255', '1.2.3.4', '256.1.1.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.02.3.4', '1.2.3.00', '1.2.3.0', '10.0.0.10', '1..2.3', '.1.2.3', '1.2.3.', '1.2.3.4 ', ' 1.2.3.4', '1.2.3.4%eth0', '1.2.3.a', '1234.1.1.1', '199.199.199.199', '200.250.255.249', '::ffff:1.2.3.4', '', '1.2.3.-4', '1.2.3.+4'];
    for (const c of cases) assert.equal(isDottedQuad(c), isIP(c) === 4, JSON.stringify(c));
  });

  it('agrees with node:net on random strings of digits and dots', () => {
    const rng = new Prng(7);
    const alphabet = '0123456789.....12a:';
    let accepted = 0;
    for (let i = 0; i < 50_000; i++) {
      const len = 5 + rng.int(12);
      let s = '';
      for (let j = 0; j < len; j++) s += alphabet[rng.int(alphabet.length)];
      const expected = isIP(s) === 4;
      if (expected) accepted++;
      assert.equal(isDottedQuad(s), expected, JSON.stringify(s));
    }
    assert.ok(accepted > 100, `${accepted} valid addresses drawn: both answers must occur`);
  });

  it('keeps normaliseIp and ipFamily as they were for both families', () => {
    assert.equal(normaliseIp('192.0.2.1'), '192.0.2.1');
    assert.equal(normaliseIp('192.0.2.01'), undefined);
    assert.equal(normaliseIp('::FFFF:192.0.2.1'), '192.0.2.1');
    assert.equal(normaliseIp('2001:DB8::1'), '2001:db8::1');
    assert.equal(ipFamily('192.0.2.1'), 4);
    assert.equal(ipFamily('2001:db8::1'), 6);
    assert.equal(ipFamily('192.0.2.256'), undefined);
    assert.equal(normalisedFamily('192.0.2.1'), 4);
    assert.equal(normalisedFamily('2001:db8::1'), 6);
  });
});
