import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fnv1a32, rendezvousWeight } from '../../../src/redirect/core/string-hash.js';

describe('fnv1a32', () => {
  // Reference vectors for 32-bit FNV-1a.
  const cases = [
    { s: '', h: 0x811c9dc5 },
    { s: 'a', h: 0xe40c292c },
    { s: 'foobar', h: 0xbf9cf968 },
  ];
  for (const c of cases) it(JSON.stringify(c.s), () => assert.equal(fnv1a32(c.s), c.h));
});

describe('rendezvousWeight', () => {
  it('spreads similar client keys evenly over members', () => {
    const members = ['tokyo-1', 'tokyo-2', 'tokyo-3'].map(fnv1a32);
    const wins = [0, 0, 0];
    for (let i = 0; i < 3000; i++) {
      const c = fnv1a32(`10.0.${i >> 8}.${i & 255}`);
      let best = 0;
      for (let m = 1; m < members.length; m++) if (rendezvousWeight(c, members[m] ?? 0) > rendezvousWeight(c, members[best] ?? 0)) best = m;
      wins[best] = (wins[best] ?? 0) + 1;
    }
    for (const w of wins) assert.ok(w > 850 && w < 1150, `uneven spread: ${wins.join(', ')}`);
  });
});
