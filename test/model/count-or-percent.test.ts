import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countOf } from '../../src/model/count-or-percent.js';

test('a count is taken as it is; a percent of the group is rounded down, but never below 1', () => {
  assert.deepEqual([countOf(3, 10), countOf(3, 1)], [3, 3]);
  assert.deepEqual([countOf('50%', 10), countOf('50%', 5), countOf('25%', 3), countOf('100%', 7), countOf('1%', 0)], [5, 2, 1, 7, 1]);
});
