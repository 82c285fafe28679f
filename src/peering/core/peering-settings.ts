import { durationOr } from '../../model/duration.js';
import type { ProxyPeeringSpec } from '../../model/peering.js';

/** Every default of a ProxyPeering spec, in one place (the schema's descriptions name the same). */
export const PEERING_DEFAULTS = {
  interval: '1m',
  timeout: '20s',
  regionLabel: 'region',
  maxLinksPerProxy: 64,
  holdTime: '30m',
  verifyTimeout: '5m',
  peerPort: 3021,
  agentConnectionCount: 2,
  /** Per attempt of an apply action (cluster networking, allow-list). */
  actionTimeout: '30s',
} as const;

/** A ProxyPeering spec with its defaults filled in and its durations in ms. */
export interface PeeringSettings {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly regionLabel: string;
  readonly maxLinksPerProxy: number;
  /** As written (shown in the plan report), and in ms. */
  readonly holdTime: string;
  readonly holdMs: number;
  readonly verifyMs: number;
  readonly peerPort: number;
  readonly agentConnectionCount: number;
  readonly dryRun: boolean;
  readonly configureProxies: boolean;
  readonly paused: boolean;
}

export function resolvePeeringSpec(spec: ProxyPeeringSpec): PeeringSettings {
  const holdTime = spec.holdTime ?? PEERING_DEFAULTS.holdTime;
  return {
    intervalMs: durationOr(spec.inventory.interval, PEERING_DEFAULTS.interval),
    timeoutMs: durationOr(spec.inventory.timeout, PEERING_DEFAULTS.timeout),
    regionLabel: spec.inventory.regionLabel ?? PEERING_DEFAULTS.regionLabel,
    maxLinksPerProxy: spec.maxLinksPerProxy ?? PEERING_DEFAULTS.maxLinksPerProxy,
    holdTime,
    holdMs: durationOr(holdTime, PEERING_DEFAULTS.holdTime),
    verifyMs: durationOr(spec.verifyTimeout, PEERING_DEFAULTS.verifyTimeout),
    peerPort: spec.peerPort ?? PEERING_DEFAULTS.peerPort,
    agentConnectionCount: spec.agentConnectionCount ?? PEERING_DEFAULTS.agentConnectionCount,
    dryRun: spec.dryRun ?? false,
    configureProxies: spec.apply?.configureProxies ?? true,
    paused: spec.paused ?? false,
  };
}

/** Re-check links and the inventory at least this often while something is pending. */
export const POLL_MS = 15_000;
/** A failed read or change is tried again after this long. */
export const RETRY_MS = 30_000;
/** After a change, read back this soon to see that it held. */
export const READ_BACK_MS = 10_000;
