import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rolloutView } from '../../src/admin/rollout-view.js';
import type { ProxyRollout } from '../../src/model/rollout.js';
import { resolveSettings } from '../../src/rollout/core/rollout-settings.js';
import { fleetSpec } from '../helpers/fleet-fixture.js';

function rollout(drain?: { deadline: string }): ProxyRollout {
  return {
    apiVersion: 'meridian.dev/v1alpha1',
    kind: 'ProxyRollout',
    metadata: { name: 'upgrade', namespace: 'default', generation: 1 },
    spec: { version: '17.4.8', ...(drain ? { drain } : {}) },
    status: {
      phase: 'Progressing',
      startedAt: '2026-01-01T00:00:00.000Z',
      sessionsCut: 3,
      proxies: [
        // Drained before its deadline, none cut.
        { name: 'tokyo-1', region: 'tokyo', wave: 0, step: 'Done', outAt: '2026-01-01T00:00:00.000Z', sessionsAtOut: 5, drainedAt: '2026-01-01T00:20:00.000Z', sessionsCut: 0, doneAt: '2026-01-01T00:30:00.000Z' },
        // Drained at its deadline, 3 cut.
        { name: 'tokyo-2', region: 'tokyo', wave: 0, step: 'Upgrading', outAt: '2026-01-01T00:30:00.000Z', sessionsAtOut: 9, drainedAt: '2026-01-01T02:30:00.000Z', sessionsCut: 3 },
        { name: 'london-1', region: 'london', wave: 1, step: 'Pending' },
      ],
    },
  } as unknown as ProxyRollout;
}

test('the rollout view gives every proxy taken out its drain deadline, a finished drain too, beside the sessions it cut', () => {
  const v = rolloutView(rollout());
  assert.deepEqual(
    v.proxies.map((p) => [p.name, p.drainDeadlineAt, p.sessionsCut]),
    [
      ['tokyo-1', '2026-01-01T02:00:00.000Z', 0],
      ['tokyo-2', '2026-01-01T02:30:00.000Z', 3],
      ['london-1', undefined, undefined],
    ],
  );
  assert.equal(v.sessionsCut, 3);
  assert.equal(rolloutView(rollout({ deadline: '45m' })).proxies[0]?.drainDeadlineAt, '2026-01-01T00:45:00.000Z');
});

test('the view\'s drain deadline is the one the rollout acts on, the default included', () => {
  for (const drain of [undefined, { deadline: '45m' }]) {
    const r = rollout(drain);
    const acted = resolveSettings(r.spec, fleetSpec()).drainDeadlineMs;
    const shown = Date.parse(rolloutView(r).proxies[0]?.drainDeadlineAt ?? '') - Date.parse('2026-01-01T00:00:00.000Z');
    assert.equal(shown, acted);
  }
});
