import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { PROXY_STEPS, ROLLOUT_PHASES, type ProxyRollout, type ProxyRolloutStatus } from '../model/rollout.js';
import type { ProxyCanary } from '../model/canary.js';
import { DEFAULT_NAMESPACE } from '../model/resource.js';

/**
 * Rollout metrics: gauges read the stored rollouts at scrape time; counters follow status
 * transitions, of rollouts and of canaries' deploys and reverts (which notify on their own channels).
 */
export function registerRolloutMetrics(registry: Registry, rollouts: () => readonly ProxyRollout[], canaries: () => readonly ProxyCanary[] = () => []) {
  const registers = [registry];
  const nameOf = (r: ProxyRollout): string => `${r.metadata.namespace ?? DEFAULT_NAMESPACE}/${r.metadata.name}`;
  new Gauge({
    name: 'meridian_rollout_phase',
    help: 'Phase of each ProxyRollout: 1 for the current phase, 0 for the others',
    labelNames: ['rollout', 'phase'] as const,
    registers,
    collect() {
      this.reset();
      for (const r of rollouts()) for (const phase of ROLLOUT_PHASES) this.set({ rollout: nameOf(r), phase }, r.status?.phase === phase ? 1 : 0);
    },
  });
  new Gauge({
    name: 'meridian_rollout_proxies',
    help: 'Proxies of each ProxyRollout by step',
    labelNames: ['rollout', 'state'] as const,
    registers,
    collect() {
      this.reset();
      for (const r of rollouts()) for (const state of PROXY_STEPS) this.set({ rollout: nameOf(r), state }, (r.status?.proxies ?? []).filter((p) => p.step === state).length);
    },
  });
  const drain = new Histogram({
    name: 'meridian_drain_duration_seconds',
    help: 'Time from taking a proxy out of rotation until its drain ended (sessions at zero or the deadline)',
    buckets: [10, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 28800],
    registers,
  });
  const cut = new Counter({ name: 'meridian_sessions_cut_total', help: 'Sessions still open when a drain deadline passed and the upgrade went ahead', registers });
  const notices = new Counter({
    name: 'meridian_notices_total',
    help: 'Notices sent, by channel and result',
    labelNames: ['channel', 'result'] as const,
    registers,
    collect() {
      // Each channel's series from 0, so that increase() sees its first failure.
      const runs = [...rollouts(), ...canaries()];
      for (const r of runs) for (const c of r.spec.notice?.channels ?? []) for (const result of ['sent', 'failed']) this.inc({ channel: c.name, result }, 0);
    },
  });

  return {
    /** Called with the status before and after each write of a rollout-shaped run (a rollout, a canary's deploy or revert). */
    onTransition(before: ProxyRolloutStatus, after: ProxyRolloutStatus): void {
      const previous = new Map((before.proxies ?? []).map((p) => [p.name, p]));
      for (const p of after.proxies ?? []) {
        const was = previous.get(p.name);
        if (was?.step !== 'Draining' || p.step === 'Draining' || !p.outAt || !p.drainedAt) continue;
        drain.observe(Math.max(0, (Date.parse(p.drainedAt) - Date.parse(p.outAt)) / 1000));
        if (p.sessionsCut) cut.inc(p.sessionsCut);
      }
    },
    onNotice(channel: string, sent: boolean): void {
      notices.inc({ channel, result: sent ? 'sent' : 'failed' });
    },
  };
}

export type RolloutMetrics = ReturnType<typeof registerRolloutMetrics>;
