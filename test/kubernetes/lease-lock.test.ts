import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { kubernetesLeaseLock } from '../../src/adapters/kubernetes/lease-lock.js';
import { runLeaseElection } from '../../src/leadership/lease-elector.js';
import { startTestCluster, type TestCluster } from '../kube/cluster.js';
import { NS } from '../kube/client.js';
import { waitFor } from '../helpers/wait.js';

interface Term {
  readonly who: string;
  readonly from: number;
  to?: number;
}

const realTimers = { setTimeout, clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) };

describe('leader election on a Lease of the API server', () => {
  let server: TestCluster;
  const cutOff = new Set<string>();
  before(async () => {
    // A replica cut off from the API server: every request with its token is refused.
    server = await startTestCluster({ authorize: (_info, token) => !cutOff.has(token ?? '') });
  });
  after(() => server.close());

  function replica(identity: string, terms: Term[]) {
    const kc = new KubeConfig();
    kc.loadFromOptions(server.kubeconfig({ namespace: NS, token: `token-${identity}` }));
    const stop = new AbortController();
    const done = runLeaseElection(
      {
        identity,
        leaseDurationMs: 3_000,
        renewDeadlineMs: 2_000,
        retryPeriodMs: 300,
        lock: kubernetesLeaseLock(kc, NS, 'meridian-leader'),
        clock: { now: () => Date.now() },
        timers: realTimers,
        log: pino({ level: 'silent' }),
        onStuck: () => assert.fail(`${identity}: work did not stop`),
      },
      (term) =>
        new Promise<void>((resolve) => {
          const t: Term = { who: identity, from: performance.now() };
          terms.push(t);
          term.addEventListener('abort', () => {
            t.to = performance.now();
            resolve();
          });
        }),
      stop.signal,
    );
    return { stop: () => stop.abort(), done };
  }

  const holder = async (): Promise<string | undefined> => ((await server.get('leases', NS, 'meridian-leader'))?.['spec'] as { holderIdentity?: string } | undefined)?.holderIdentity;

  it('one of two replicas leads; cut off, it stops acting before the other takes over; a stopped leader releases the Lease', async () => {
    const terms: Term[] = [];
    const a = replica('meridian-a', terms);
    const b = replica('meridian-b', terms);
    await waitFor('a leader', async () => (terms.length === 1 && (await holder()) ? true : undefined), 20_000);
    const first = terms[0]?.who ?? '';
    assert.equal(await holder(), first);
    const spec = (await server.get('leases', NS, 'meridian-leader'))?.['spec'] as Record<string, unknown>;
    assert.match(String(spec['renewTime']), /\.\d{6}Z$/);
    assert.equal(spec['leaseDurationSeconds'], 3);

    cutOff.add(`token-${first}`);
    await waitFor('a new leader', async () => ((await holder()) !== first && terms.length === 2 ? true : undefined), 30_000);
    const [old, next] = terms;
    assert.ok(old?.to !== undefined && next !== undefined && old.to <= next.from, `the terms overlap: ${JSON.stringify(terms)}`);
    const transitions = ((await server.get('leases', NS, 'meridian-leader'))?.['spec'] as { leaseTransitions?: number }).leaseTransitions;
    assert.equal(transitions, 1);

    cutOff.clear();
    const leader = first === 'meridian-a' ? b : a;
    const standby = first === 'meridian-a' ? a : b;
    standby.stop();
    await standby.done;
    leader.stop();
    await leader.done;
    assert.equal(await holder(), '', 'released on stop');
  });
});
