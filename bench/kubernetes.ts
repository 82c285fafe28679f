/**
 * The Kubernetes store (issue #15) at 500 ProxyRollouts, against the in-process test API server
 * (test/kube/api-server.ts) through the real @kubernetes/client-node. The API server runs in this
 * process, on the same thread: every figure includes its work, for Meridian and baseline alike.
 *
 * - Status writes per second: the kind controller (work queue, reconcile loop) over the
 *   KubernetesStore, a reconciler that writes each object's status once (a PUT of /status naming
 *   the resourceVersion; the watch events of its own writes queue the keys again, as in a real
 *   run, and find nothing to write). Baseline: the same number of bare client-node
 *   replaceNamespacedCustomObjectStatus calls, one after the other, on 500 objects of another
 *   namespace (the store does not watch it). Rounds interleaved; medians.
 * - Watch-to-reconcile latency: a merge patch of one object's spec through the API, until the
 *   reconciler is called for that key with the new spec (store watch, cache, kind cache, queue).
 *   Baseline: the same change arriving on a bare client-node watch of the namespace, open at the
 *   same time. Patches one after the other, each timed from just before the PATCH is sent.
 * - Memory: heap the store holds once synced with the 500 objects, against the heap of the same
 *   objects as the list answer's JSON parsed; the process RSS.
 */
import { CustomObjectsApi, KubeConfig, Watch } from '@kubernetes/client-node';
import { cpus, loadavg } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pino from 'pino';
import { KubernetesStore } from '../src/adapters/kubernetes/kubernetes-store.js';
import { systemClock } from '../src/runtime/controller-runtime.js';
import { startKindCaches } from '../src/runtime/kind-cache.js';
import { startKindController } from '../src/runtime/kind-controller.js';
import type { Reconciler } from '../src/runtime/reconciler.js';
import type { Timers } from '../src/runtime/work-queue.js';
import { startApiServer } from '../test/kube/api-server.js';
import { asMergePatch, GROUP, NS, VERSION } from '../test/kube/client.js';

const OBJECTS = 500;
/** Measured rounds of the status writes, after one warm-up round (the JIT) of each. */
const ROUNDS = 4;
const SAMPLES = 300;
const BASELINE_NS = 'bench-baseline';
const PLURAL = 'proxyrollouts';

setFlagsFromString('--expose-gc');
// Bytecode of functions idle for a few collections is dropped: it would show as the heap shrinking between two figures.
setFlagsFromString('--no-flush-bytecode');
const gc = runInNewContext('gc') as () => void;
/** Heap in use after collections with turns of the event loop between (finalizers free more once they have run). */
async function settledHeap(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc();
    await sleep(20);
  }
  gc();
  return process.memoryUsage().heapUsed;
}
const realTimers: Timers = { setTimeout, clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };
const log = pino({ level: 'silent' });
const median = (xs: readonly number[]): number => pct(xs, 50);
function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
}
const mb = (b: number): string => `${(b / 1e6).toFixed(1)} MB`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const name = (i: number): string => `rollout-${String(i).padStart(3, '0')}`;

interface Listed {
  items: { metadata: { name: string; resourceVersion: string }; spec: unknown; status?: unknown }[];
}

const server = await startApiServer({ historyLimit: 100_000 });
const kubeConfig = new KubeConfig();
kubeConfig.loadFromOptions(server.kubeconfig({ namespace: NS }));
const api = kubeConfig.makeApiClient(CustomObjectsApi);
const base = { group: GROUP, version: VERSION, plural: PLURAL };
try {
  // Set-up, not measured: 25 creates in flight.
  for (const namespace of [NS, BASELINE_NS])
    for (let i = 0; i < OBJECTS; i += 25)
      await Promise.all(
        Array.from({ length: Math.min(25, OBJECTS - i) }, (_, j) =>
          api.createNamespacedCustomObject({ ...base, namespace, body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'ProxyRollout', metadata: { name: name(i + j), namespace }, spec: { version: '17.4.8' } } }),
        ),
      );

  // Memory: the objects as plain parsed JSON (the floor any client holds), then as the synced store holds them.
  const listJson = JSON.stringify(await api.listNamespacedCustomObject({ ...base, namespace: NS }));
  const heap0 = await settledHeap();
  let plain: Listed | undefined = JSON.parse(listJson) as Listed;
  const heap1 = await settledHeap();
  const store = new KubernetesStore({ kubeConfig, namespace: NS, timers: realTimers, log });
  await store.start();
  const storeHeap = (await settledHeap()) - heap1;
  const listHeap = heap1 - heap0;
  const mem = process.memoryUsage();
  if (plain.items.length !== OBJECTS) throw new Error(`listed ${plain.items.length} objects`);
  plain = undefined;

  const caches = await startKindCaches(store, log);
  const controllerDeps = { cache: caches.ProxyRollout, clock: systemClock, timers: realTimers, stopwatch: () => performance.now(), log, onPass: () => undefined };

  // (a) Status writes per second.
  let target = '';
  let writes = 0;
  let roundDone: () => void = () => undefined;
  const writer: Reconciler = {
    kind: 'ProxyRollout',
    async reconcile(key) {
      const o = await store.get('ProxyRollout', key.namespace, key.name);
      if (!o || o.status?.message === target) return {};
      await store.updateStatus('ProxyRollout', key.namespace, key.name, { observedGeneration: o.metadata.generation ?? 0, message: target });
      if (++writes === OBJECTS) roundDone();
      return {};
    },
  };
  const writeTerm = new AbortController();
  const writing = startKindController({ ...controllerDeps, reconciler: writer }, writeTerm.signal);
  const caughtUp = async (): Promise<void> => {
    // The watch brings every write back (and the queue finds nothing left to write) before the next round.
    while ([...caches.ProxyRollout.values()].some((o) => o.status?.message !== target)) await sleep(5);
    await sleep(50);
  };
  await caughtUp();
  const meridianRates: number[] = [];
  const baselineRates: number[] = [];
  for (let r = 0; r <= ROUNDS; r++) {
    const listed = (await api.listNamespacedCustomObject({ ...base, namespace: BASELINE_NS })) as Listed;
    let t = performance.now();
    for (const o of listed.items) await api.replaceNamespacedCustomObjectStatus({ ...base, namespace: BASELINE_NS, name: o.metadata.name, body: { ...o, status: { message: `round ${r}` } } });
    if (r > 0) baselineRates.push(OBJECTS / ((performance.now() - t) / 1000));

    target = `round ${r}`;
    writes = 0;
    const done = new Promise<void>((resolve) => (roundDone = resolve));
    t = performance.now();
    writing.enqueueAll();
    await done;
    if (r > 0) meridianRates.push(OBJECTS / ((performance.now() - t) / 1000));
    await caughtUp();
  }
  writeTerm.abort();
  await writing.done;
  caches.close();
  await store.close();

  // (b) Watch-to-reconcile latency. The bare watch opens first, so the API server sends it each event first:
  // all in one thread, the stream served first is read first (the other order hides Meridian's cost).
  const reconciled = new Map<string, { version: string; at: (t: number) => void }>();
  const watched = new Map<string, { version: string; at: (t: number) => void }>();
  const bare = await new Watch(kubeConfig).watch(
    `/apis/${GROUP}/${VERSION}/namespaces/${NS}/${PLURAL}`,
    { resourceVersion: server.resourceVersion(), allowWatchBookmarks: true },
    (type: string, obj: { metadata?: { name?: string }; spec?: { version?: string } }) => {
      const w = watched.get(obj.metadata?.name ?? '');
      if (type === 'MODIFIED' && w && obj.spec?.version === w.version) {
        watched.delete(obj.metadata?.name ?? '');
        w.at(performance.now());
      }
    },
    () => undefined,
  );
  const seerStore = new KubernetesStore({ kubeConfig, namespace: NS, timers: realTimers, log });
  await seerStore.start();
  const seerCaches = await startKindCaches(seerStore, log);
  const seer: Reconciler = {
    kind: 'ProxyRollout',
    async reconcile(key) {
      const o = await seerStore.get('ProxyRollout', key.namespace, key.name);
      const w = reconciled.get(key.name);
      if (w && o?.spec.version === w.version) {
        reconciled.delete(key.name);
        w.at(performance.now());
      }
      return {};
    },
  };
  const seeTerm = new AbortController();
  const seeing = startKindController({ ...controllerDeps, cache: seerCaches.ProxyRollout, reconciler: seer }, seeTerm.signal);
  const meridianMs: number[] = [];
  const bareMs: number[] = [];
  const addedMs: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const n = name((i * 7) % OBJECTS);
    const version = `17.5.${i}`;
    const atReconcile = new Promise<number>((at) => reconciled.set(n, { version, at }));
    const atWatch = new Promise<number>((at) => watched.set(n, { version, at }));
    const t0 = performance.now();
    await api.patchNamespacedCustomObject({ ...base, namespace: NS, name: n, body: { spec: { version } } }, asMergePatch);
    const [r, w] = await Promise.all([atReconcile, atWatch]);
    meridianMs.push(r - t0);
    bareMs.push(w - t0);
    addedMs.push(r - w);
  }
  bare.abort();
  seeTerm.abort();
  await seeing.done;
  seerCaches.close();
  await seerStore.close();

  const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;
  console.log(`Kubernetes store, ${OBJECTS} ProxyRollouts, in-process test API server (same thread), real client-node; load average ${loadavg()[0]?.toFixed(1)} on ${cpus().length} CPUs`);
  const mr = median(meridianRates);
  const br = median(baselineRates);
  console.log(
    `  status writes   ${mr.toFixed(0)}/s (store + kind controller, PUT /status with resourceVersion)   baseline ${br.toFixed(0)}/s (bare replaceNamespacedCustomObjectStatus)   ratio ${ratio(mr, br)}   [median of ${ROUNDS} rounds of ${OBJECTS} after a warm-up round: ${meridianRates.map((x) => x.toFixed(0)).join(', ')} vs ${baselineRates.map((x) => x.toFixed(0)).join(', ')}]`,
  );
  for (const p of [50, 95, 99]) {
    const m = pct(meridianMs, p);
    const b = pct(bareMs, p);
    console.log(`  watch-to-reconcile p${p}  ${m.toFixed(2)} ms   baseline (bare watch event) ${b.toFixed(2)} ms   ratio ${ratio(m, b)}`);
  }
  console.log(`    what Meridian adds to the bare watch, per patch: p50 ${median(addedMs).toFixed(2)} ms, p99 ${pct(addedMs, 99).toFixed(2)} ms (the bare watch is served first)`);
  console.log(`    (${SAMPLES} spec patches one after the other, each timed from just before the PATCH is sent; max ${Math.max(...meridianMs).toFixed(1)} ms vs ${Math.max(...bareMs).toFixed(1)} ms)`);
  console.log(`  memory          store heap ${mb(storeHeap)} for ${OBJECTS} objects   baseline ${mb(listHeap)} (the list answer parsed: ${mb(listJson.length)} of JSON)   ratio ${ratio(storeHeap, listHeap)}   process RSS ${mb(mem.rss)}, heap used ${mb(mem.heapUsed)} (API server included)`);
} finally {
  await server.close();
}
