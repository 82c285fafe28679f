import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deploySpec, revertSpec } from '../../src/canary/core/canary-runs.js';
import { resolveSettings } from '../../src/rollout/core/rollout-settings.js';
import { validateManifest } from '../../src/model/validate.js';
import { canary, canaryFleet } from './helpers/run-canary.js';

test("a canary's verify goes to its deploy and its revert, as a rollout's would; without one, the rollout's defaults", () => {
  const f = canaryFleet();
  const c = canary({ verify: { consecutiveScrapes: 5, timeout: '45m' } });
  for (const spec of [deploySpec(c.spec, f, ['tokyo-1']), revertSpec(c.spec, f, ['tokyo-1'], '17.4.2')]) {
    const s = resolveSettings(spec, f);
    assert.deepEqual([s.verifyScrapes, s.verifyTimeoutMs], [5, 45 * 60_000]);
  }
  const plain = resolveSettings(deploySpec(canary().spec, f, ['tokyo-1']), f);
  assert.deepEqual([plain.verifyScrapes, plain.verifyTimeoutMs], [3, 10 * 60_000]);
});

test("a canary's verify is checked as a rollout's: a bad timeout is refused with its path", () => {
  const { metadata, ...rest } = canary({ verify: { timeout: 'soon' } });
  const r = validateManifest({ ...rest, metadata: { name: metadata.name } });
  assert.ok(!r.ok);
  assert.deepEqual(
    r.error.map((e) => e.path.join('.')),
    ['spec.verify.timeout'],
  );
});
