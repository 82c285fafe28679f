import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, parseDuration } from '../../src/model/duration.js';

test('parses Go-style durations', () => {
  const cases: [string, number][] = [['500ms', 500], ['30s', 30_000], ['10m', 600_000], ['1h30m', 5_400_000], ['7d', 604_800_000], ['1.5h', 5_400_000]];
  for (const [text, ms] of cases) assert.deepEqual(parseDuration(text), { ok: true, value: ms }, text);
});

test('refuses what is not a duration, quoting it', () => {
  for (const text of ['', '10', 'h', '1w', '-5m', '5 m']) {
    const r = parseDuration(text);
    assert.equal(r.ok, false, text);
    assert.match(r.ok ? '' : r.error, new RegExp(`"${text}" is not a duration`));
  }
});

test('formats durations compactly', () => {
  assert.equal(formatDuration(0), '0ms');
  assert.equal(formatDuration(90_000), '1m30s');
  assert.equal(formatDuration(90_061_000), '1d1h1m1s');
});
