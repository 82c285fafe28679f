/**
 * Leader hand-over time (issue #15): two Lease electors (src/leadership/lease-elector.ts over
 * kubernetesLeaseLock, the real client-node) on the in-process test API server, each with its own
 * credentials. The leader then either stops (its close releases the Lease: the standby may take
 * it at its next retry) or is cut off (the API server refuses its calls from then on, a network
 * partition: nothing is released, and the standby must see the Lease unchanged for a whole lease
 * duration on its own clock). Timed from the event until the standby's term starts. The durations
 * are shortened (stated in the output); with the defaults (15 s, 10 s, 2 s) the cut-off case
 * scales with the lease duration and the release case with the retry period.
 * The baseline, in the same run, is the stop case: the release is what makes a hand-over fast.
 */
import { KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { kubernetesLeaseLock } from '../src/adapters/kubernetes/lease-lock.js';
import { runLeaseElection } from '../src/leadership/lease-elector.js';
import { systemClock } from '../src/runtime/controller-runtime.js';
import type { Timers } from '../src/runtime/work-queue.js';
import { startApiServer } from '../test/kube/api-server.js';
import { NS } from '../test/kube/client.js';

const LEASE_MS = 3_000;
const RENEW_DEADLINE_MS = 2_000;
const RETRY_MS = 500;
const ROUNDS = 3;
const LEASE = 'meridian-bench';

const realTimers: Timers = { setTimeout, clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };
const log = pino({ level: 'silent' });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

/** Identities (the bearer tokens too) whose Lease calls the API server refuses. */
const cutOff = new Set<string>();
const server = await startApiServer({ authorize: (info, token) => !(info.resource === 'leases' && cutOff.has(token ?? '')) });

function elector(identity: string) {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions(server.kubeconfig({ namespace: NS, token: identity }));
  const stop = new AbortController();
  const state: { ledAt?: number; stoppedAt?: number; stuck: boolean } = { stuck: false };
  const done = runLeaseElection(
    {
      identity,
      leaseDurationMs: LEASE_MS,
      renewDeadlineMs: RENEW_DEADLINE_MS,
      retryPeriodMs: RETRY_MS,
      lock: kubernetesLeaseLock(kubeConfig, NS, LEASE),
      clock: systemClock,
      timers: realTimers,
      log,
      onStuck: () => (state.stuck = true),
    },
    async (term) => {
      state.ledAt = performance.now();
      await new Promise<void>((resolve) => term.addEventListener('abort', () => resolve(), { once: true }));
      state.stoppedAt = performance.now();
    },
    stop.signal,
  );
  return { identity, state, done, stop: () => stop.abort() };
}

async function until(what: string, cond: () => boolean, maxMs = 20_000): Promise<void> {
  const end = performance.now() + maxMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`${what}: not within ${maxMs} ms`);
    await sleep(5);
  }
}

interface Handover {
  readonly takenMs: number;
  /** When the old leader's term ended (its work told to stop), from the event. */
  readonly oldStoppedMs: number;
}

async function handover(round: string, how: 'stop' | 'cut'): Promise<Handover> {
  const a = elector(`a-${round}`);
  await until('a leads', () => a.state.ledAt !== undefined);
  const b = elector(`b-${round}`);
  // b has read the Lease a few times: it stands by.
  await sleep(3 * RETRY_MS);
  const t0 = performance.now();
  if (how === 'stop') a.stop();
  else cutOff.add(a.identity);
  await until('b takes over', () => b.state.ledAt !== undefined);
  await until('a stops', () => a.state.stoppedAt !== undefined);
  a.stop();
  b.stop();
  await Promise.all([a.done, b.done]);
  if (a.state.stuck || b.state.stuck) throw new Error('a term did not stop in time');
  return { takenMs: (b.state.ledAt ?? 0) - t0, oldStoppedMs: (a.state.stoppedAt ?? 0) - t0 };
}

try {
  const stops: Handover[] = [];
  const cuts: Handover[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    stops.push(await handover(`stop${r}`, 'stop'));
    cuts.push(await handover(`cut${r}`, 'cut'));
  }
  const stopMs = median(stops.map((h) => h.takenMs));
  const cutMs = median(cuts.map((h) => h.takenMs));
  const each = (hs: readonly Handover[]): string => hs.map((h) => s(h.takenMs)).join(', ');
  console.log(`leader hand-over, two Lease electors over the in-process test API server (real client-node), shortened: lease ${LEASE_MS} ms, renew deadline ${RENEW_DEADLINE_MS} ms, retry ${RETRY_MS} ms (defaults 15 s, 10 s, 2 s); median of ${ROUNDS}`);
  console.log(`  leader stops (close releases the Lease)   standby leads after ${s(stopMs)}   (bound: one retry period, jittered up to ${s(RETRY_MS * 1.2)})   [${each(stops)}]`);
  console.log(
    `  leader cut off (no release)               standby leads after ${s(cutMs)}   (bound: lease duration + retry, up to ${s(LEASE_MS + RETRY_MS * 1.2)})   ratio ${(cutMs / stopMs).toFixed(1)}x the stop case   [${each(cuts)}]`,
  );
  const cutStopped = median(cuts.map((h) => h.oldStoppedMs));
  console.log(`    the cut-off leader stopped acting after ${s(cutStopped)} (the renew deadline from its last renewal), ${s(cutMs - cutStopped)} before the standby began: never two at once`);
} finally {
  await server.close();
}
