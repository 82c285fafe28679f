import { test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { KubernetesStore } from '../../src/adapters/kubernetes/kubernetes-store.js';
import { startTestCluster } from '../kube/cluster.js';
import { NS } from '../kube/client.js';
import { startForwarder } from '../k8s/forwarder.js';

const realTimers = { setTimeout, clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) };

test('the store closes while its watches wait for response headers (a proxy that holds them until the first event)', { timeout: 20_000 }, async (t) => {
  const server = await startTestCluster();
  t.after(() => server.close());
  let watches = 0;
  const forwarder = await startForwarder(
    server.url,
    async (req) => {
      if (req.url?.includes('watch=true')) watches++;
    },
    { holdHeaders: true },
  );
  t.after(() => forwarder.close());
  const kc = new KubeConfig();
  kc.loadFromOptions({ ...server.kubeconfig({ namespace: NS }), clusters: [{ name: 'test', server: forwarder.url, skipTLSVerify: true }] });
  const store = new KubernetesStore({ kubeConfig: kc, namespace: NS, timers: realTimers, log: pino({ level: 'silent' }) });
  await store.start();
  while (watches < 4) await new Promise((resolve) => setImmediate(resolve));
  // Nothing changes, so no watch gets an event (nor its headers): close must not wait for one (without the fix it hangs until the test's timeout).
  await store.close();
});
