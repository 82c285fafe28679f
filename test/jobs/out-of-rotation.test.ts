import { test } from 'node:test';
import assert from 'node:assert/strict';
import { outOfRotation } from '../../src/jobs/out-of-rotation.js';
import type { ProxyCanary } from '../../src/model/canary.js';
import type { ProxyRollout } from '../../src/model/rollout.js';
import { fleet, fleetSpec } from '../helpers/fleet-fixture.js';

const rollout = (proxies: { name: string; step: string }[]): ProxyRollout =>
  ({ apiVersion: 'meridian.dev/v1alpha1', kind: 'ProxyRollout', metadata: { name: 'r' }, spec: { version: '17.5.0' }, status: { proxies } }) as unknown as ProxyRollout;
const canary = (deploy: { name: string; step: string }[]): ProxyCanary =>
  ({ apiVersion: 'meridian.dev/v1alpha1', kind: 'ProxyCanary', metadata: { name: 'c' }, spec: { build: { version: '17.4.9' }, subset: {} }, status: { deploy: { proxies: deploy } } }) as unknown as ProxyCanary;

test('out of rotation: what rollouts and canaries hold out, and with the fleet its cordoned proxies', () => {
  const base = fleetSpec();
  const first = base.proxies[0]?.name ?? '';
  const cordoned = fleet({ ...base, proxies: base.proxies.map((p) => (p.name === first ? { ...p, cordoned: true } : p)) });
  const rollouts = [rollout([{ name: 'r-out', step: 'Draining' }, { name: 'r-done', step: 'Done' }, { name: 'r-waiting', step: 'Noticed' }])];
  const canaries = [canary([{ name: 'c-out', step: 'Upgrading' }, { name: 'c-back', step: 'Done' }])];
  assert.deepEqual([...outOfRotation({ rollouts, canaries })].sort(), ['c-out', 'r-out']);
  assert.deepEqual([...outOfRotation({ rollouts, canaries, fleet: cordoned })].sort(), [first, 'c-out', 'r-out'].sort());
  assert.deepEqual([...outOfRotation({ rollouts: [], canaries: [], fleet: fleet(base) })], []);
});
