import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setCondition } from '../../src/model/conditions.js';

const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-01T00:05:00.000Z';

test('setCondition adds a new condition with the current time', () => {
  const c = setCondition([], { type: 'Ready', status: 'True', reason: 'Ok', message: 'fine', observedGeneration: 1 }, T0);
  assert.deepEqual(c, [{ type: 'Ready', status: 'True', reason: 'Ok', message: 'fine', observedGeneration: 1, lastTransitionTime: T0 }]);
});

test('lastTransitionTime moves only when the status flips; the rest is refreshed', () => {
  const c0 = setCondition([], { type: 'Ready', status: 'True', reason: 'Ok', message: 'fine', observedGeneration: 1 }, T0);
  const same = setCondition(c0, { type: 'Ready', status: 'True', reason: 'StillOk', message: 'still fine', observedGeneration: 2 }, T1);
  assert.equal(same[0]?.lastTransitionTime, T0);
  assert.equal(same[0]?.reason, 'StillOk');
  assert.equal(same[0]?.observedGeneration, 2);
  const flipped = setCondition(same, { type: 'Ready', status: 'False', reason: 'Down', message: 'down', observedGeneration: 2 }, T1);
  assert.equal(flipped[0]?.lastTransitionTime, T1);
  assert.equal(flipped.length, 1);
});

test('conditions of other types are kept in place', () => {
  let c = setCondition([], { type: 'Observed', status: 'True', reason: 'A', message: '', observedGeneration: 1 }, T0);
  c = setCondition(c, { type: 'Ready', status: 'False', reason: 'B', message: '', observedGeneration: 1 }, T0);
  c = setCondition(c, { type: 'Observed', status: 'False', reason: 'C', message: '', observedGeneration: 1 }, T1);
  assert.deepEqual(c.map((x) => [x.type, x.status]), [['Observed', 'False'], ['Ready', 'False']]);
});
