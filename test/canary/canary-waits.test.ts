import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProxyCanaryStatus } from '../../src/model/canary.js';
import { BUILD, canary, runCanary } from './helpers/run-canary.js';

test('a canary waiting for a window days away says so, per proxy and in its message, instead of only "Deploying"', async () => {
  // Monday 2026-01-05; the windows open on Saturday.
  const saturday = [{ days: ['Sat' as const], start: '02:00', duration: '4h' }];
  let waiting: ProxyCanaryStatus | undefined;
  await runCanary(canary({ maintenanceWindows: { tokyo: saturday, london: saturday } }), { connectsPerMinute: 100, connectFailureRatio: { '17.4.2': 0.005, [BUILD]: 0.005 } }, {
    afterPass: (st) => {
      if (!waiting && st.phase === 'Deploying' && st.deploy?.proxies?.length) waiting = st;
    },
  });
  assert.ok(waiting, 'the canary started deploying');
  assert.deepEqual(
    waiting.deploy?.proxies?.map((p) => [p.name, p.step, p.waitingFor?.reason, p.waitingFor?.until]),
    [['tokyo-1', 'Pending', 'Notice', '2026-01-09T16:50:00.000Z'], ['london-1', 'Pending', 'Notice', '2026-01-10T01:50:00.000Z']],
  );
  assert.equal(
    waiting.message,
    `Deploying ${BUILD} to tokyo-1, london-1: tokyo-1 waits for the 10m notice, due at Sat 2026-01-10 01:50 GMT+9 (2026-01-09 16:50 UTC), for the window at Sat 2026-01-10 02:00 GMT+9 (2026-01-09 17:00 UTC); london-1 waits for the 10m notice, due at Sat 2026-01-10 01:50 GMT (2026-01-10 01:50 UTC), for the window at Sat 2026-01-10 02:00 GMT (2026-01-10 02:00 UTC)`,
  );
});
