import assert from 'node:assert/strict';
import { test } from 'node:test';
import { goDuration } from '../../src/adapters/notify/go-duration.js';

test('goDuration spells durations the way Go time.ParseDuration reads them (no days)', () => {
  const cases: [string, string][] = [
    ['4h', '4h0m0s'],
    ['1h30m', '1h30m0s'],
    ['2d', '48h0m0s'],
    ['1d12h', '36h0m0s'],
    ['90s', '0h1m30s'],
    ['1.5h', '1h30m0s'],
    ['1500ms', '0h0m2s'],
  ];
  for (const [input, want] of cases) assert.deepEqual(goDuration(input), { ok: true, value: want }, input);
  assert.equal(goDuration('0s').ok, false);
  assert.equal(goDuration('3 hours').ok, false);
});
