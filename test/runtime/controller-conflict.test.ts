import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { Conflict } from '../../src/model/store.js';
import { runController } from '../../src/runtime/controller.js';
import { WorkQueue, type Timers } from '../../src/runtime/work-queue.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { MemoryStore } from '../helpers/memory-store.js';
import { fleet } from '../helpers/fleet-fixture.js';
import { waitFor } from '../helpers/wait.js';

/** Timers that never fire: anything that waits on a backoff waits for good. */
const frozen: Timers = { setTimeout: () => ({}), clearTimeout: () => undefined };

test('a Conflict is reconciled again at once from fresh state, with no backoff; another error backs off', async () => {
  const store = new MemoryStore();
  store.put(fleet(undefined, 1));
  const key = { kind: 'ProxyFleet', namespace: 'default', name: fleet(undefined, 1).metadata.name };
  let calls = 0;
  let failWith: (() => Error) | undefined = () => new Conflict('changed since it was read');
  const reconciler = {
    kind: 'ProxyFleet',
    async reconcile() {
      calls++;
      const e = failWith?.();
      failWith = undefined;
      if (e) throw e;
      await store.updateStatus('ProxyFleet', key.namespace, key.name, { observedGeneration: calls });
      return {};
    },
  };
  const stop = new AbortController();
  const queue = new WorkQueue({ baseBackoffMs: 1_000, maxBackoffMs: 60_000, timers: frozen });
  const done = runController({ reconciler, queue, clock: new ManualClock(), log: pino({ level: 'silent' }) }, stop.signal);
  queue.add(key);
  await waitFor('the second pass', async () => ((await store.get('ProxyFleet', key.namespace, key.name))?.status?.observedGeneration === 2 ? true : undefined));

  // Any other error waits for its backoff, which these timers never end.
  failWith = () => new Error('boom');
  queue.add(key);
  await waitFor('the failing pass', async () => (calls === 3 ? true : undefined));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(calls, 3);
  assert.equal((await store.get('ProxyFleet', key.namespace, key.name))?.status?.observedGeneration, 2);
  stop.abort();
  await done;
});
