import { Gauge, type Registry } from 'prom-client';

/** `meridian_leader{identity}`: 1 while this replica acts, 0 otherwise; the alert MeridianNoLeader reads it. */
export function registerLeaderMetric(registry: Registry, identity: string): (leading: boolean) => void {
  const gauge = new Gauge({ name: 'meridian_leader', help: 'Whether this replica holds the leadership and acts (1) or stands by (0)', labelNames: ['identity'], registers: [registry] });
  gauge.set({ identity }, 0);
  return (leading) => gauge.set({ identity }, leading ? 1 : 0);
}
