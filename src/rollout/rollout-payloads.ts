import type { HookRequest, NoticePayload } from '../model/actuators.js';
import { formatDuration } from '../model/duration.js';
import type { ProxyFleetSpec } from '../model/fleet.js';
import type { ProxyRolloutSpec, ProxyRolloutStatus, RolloutAction } from '../model/rollout.js';

/** What the payloads are built from: the spec and the status the action was written to. */
export interface RolloutState {
  readonly spec: ProxyRolloutSpec;
  readonly status?: ProxyRolloutStatus;
}

/** The notice a `notify` action sends, from what the status recorded when the window was planned. */
export function noticePayload(rollout: RolloutState, name: string, noticeId: string, now: number): NoticePayload | undefined {
  const st = rollout.status;
  const n = st?.notices?.find((x) => x.id === noticeId);
  const w = st?.windows?.find((x) => x.region === n?.region);
  if (!n || !w) return undefined;
  return {
    id: n.id,
    rollout: name,
    region: n.region,
    proxies: (st?.proxies ?? []).filter((p) => p.region === n.region && (p.step === 'Pending' || p.step === 'Noticed')).map((p) => p.name),
    version: rollout.status?.version ?? rollout.spec.version,
    leadTime: n.leadTime,
    windowStartAt: w.startAt,
    windowEndAt: w.endAt,
    severity: rollout.spec.notice?.severity ?? 'medium',
    message: n.message,
    // A cluster alert stays up until the window closes.
    ttl: formatDuration(Math.max(60_000, Date.parse(w.endAt) - now)),
  };
}

export function hookRequest(rollout: RolloutState, name: string, fleet: ProxyFleetSpec, a: Extract<RolloutAction, { kind: 'hook' }>): HookRequest | undefined {
  const proxy = fleet.proxies.find((p) => p.name === a.proxy);
  if (!proxy) return undefined;
  // Image, artifact and flags belong to the target build: a rollback or a rotation action runs without them.
  const upgrade = a.action === 'upgrade';
  const image = upgrade ? (rollout.status?.image ?? rollout.spec.image) : undefined;
  const artifact = upgrade ? (rollout.status?.artifact ?? rollout.spec.artifact) : undefined;
  const flags = upgrade ? rollout.spec.flags : undefined;
  return { id: a.id, rollout: name, action: a.action, proxy, version: a.version, ...(image ? { image } : {}), ...(artifact ? { artifact } : {}), ...(flags?.length ? { flags } : {}) };
}
