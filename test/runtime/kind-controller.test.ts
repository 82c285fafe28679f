import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as turn } from 'node:timers/promises';
import pino from 'pino';
import type { ProxyFleet } from '../../src/model/fleet.js';
import { startKindCaches } from '../../src/runtime/kind-cache.js';
import { startKindController } from '../../src/runtime/kind-controller.js';
import type { Reconciler } from '../../src/runtime/reconciler.js';
import { fleet } from '../helpers/fleet-fixture.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { MemoryStore } from '../helpers/memory-store.js';
import { waitFor } from '../helpers/wait.js';

const log = pino({ level: 'silent' });
const named = (name: string, generation = 1): ProxyFleet => ({ ...fleet(undefined, generation), metadata: { name, namespace: 'default', generation } });

/** Records in each fleet's status the generation it last saw. */
function generationReconciler(store: MemoryStore): Reconciler {
  return {
    kind: 'ProxyFleet',
    async reconcile(key) {
      const f = await store.get('ProxyFleet', key.namespace, key.name);
      if (f) await store.updateStatus('ProxyFleet', key.namespace, key.name, { observedGeneration: f.metadata.generation ?? 0 });
      return {};
    },
  };
}

async function seenGenerations(store: MemoryStore): Promise<Record<string, number | undefined>> {
  return Object.fromEntries((await store.list('ProxyFleet')).map((f) => [f.metadata.name, f.status?.observedGeneration]));
}

test('a term reconciles every cached object at its start and each one that changes; after it ends nothing is reconciled until the next term', async () => {
  const store = new MemoryStore();
  store.put(named('a'));
  store.put(named('b'));
  const caches = await startKindCaches(store, log);
  const deps = { cache: caches.ProxyFleet, reconciler: generationReconciler(store), clock: new ManualClock(), timers: { setTimeout, clearTimeout }, stopwatch: () => 0, log, onPass: () => undefined };

  const first = new AbortController();
  const c = startKindController(deps, first.signal);
  await waitFor('both fleets reconciled', async () => ((await seenGenerations(store))['b'] === 1 && (await seenGenerations(store))['a'] === 1 ? true : undefined));
  store.put({ ...named('a', 2), status: { observedGeneration: 1 } });
  await waitFor('the edit reconciled', async () => ((await seenGenerations(store))['a'] === 2 ? true : undefined));

  first.abort();
  await c.done;
  store.put({ ...named('b', 2), status: { observedGeneration: 1 } });
  c.enqueueAll();
  for (let i = 0; i < 20; i++) await turn();
  assert.deepEqual(await seenGenerations(store), { a: 2, b: 1 }, 'the ended term reconciled nothing more');

  const second = new AbortController();
  const next = startKindController(deps, second.signal);
  await waitFor('the next term to catch up', async () => ((await seenGenerations(store))['b'] === 2 ? true : undefined));
  second.abort();
  await next.done;
  caches.close();
});
