import type { Proxy } from './fleet.js';
import type { Result } from './result.js';
import type { NoticeChannel, NoticeSeverity } from './rollout.js';

/** What users are told before their proxy is taken out; one per region, window and lead time. */
export interface NoticePayload {
  /** Stable across retries and restarts: receivers drop duplicates by it. */
  readonly id: string;
  /** `namespace/name` of the ProxyRollout. */
  readonly rollout: string;
  readonly region: string;
  readonly proxies: readonly string[];
  readonly version: string;
  readonly leadTime: string;
  readonly windowStartAt: string;
  readonly windowEndAt: string;
  readonly severity: NoticeSeverity;
  /** Rendered from the rollout's template. */
  readonly message: string;
  /** How long a cluster alert should stay up: until the window ends. */
  readonly ttl: string;
}

export interface Delivery {
  /** Tries made, retries included. */
  readonly attempts: number;
}

export interface DeliveryFailure extends Delivery {
  /** Names the channel, the address and what went wrong. */
  readonly error: string;
}

/** Sends one notice on one channel, retrying as the adapter sees fit. Never throws. */
export type SendNotice = (channel: NoticeChannel, notice: NoticePayload, signal: AbortSignal) => Promise<Result<Delivery, DeliveryFailure>>;

export const ROLLOUT_HOOK_ACTIONS = ['out-of-rotation', 'in-rotation', 'upgrade', 'rollback'] as const;
/** The actions a rollout's steps ask for. */
export type RolloutHookAction = (typeof ROLLOUT_HOOK_ACTIONS)[number];
export const HOOK_ACTIONS = [...ROLLOUT_HOOK_ACTIONS, 'configure'] as const;
/**
 * What a proxy's upgrade method is asked to do. Rotation actions let the operator's automation
 * take the proxy out of (or back into) a load balancer it controls, so new connections stop
 * reaching it while it drains; upgrade and rollback move it to `version`; configure sets the
 * proxy's peer listener (peer_listen_addr, peer_public_addr) for proxy peering.
 */
export type HookAction = (typeof HOOK_ACTIONS)[number];

export interface HookRequest {
  /** Stable for this rollout, proxy, action and target: the hook may be called again with it after a crash. */
  readonly id: string;
  /** `namespace/name` of the ProxyRollout (or the ProxyPeering, for configure). */
  readonly rollout: string;
  readonly action: HookAction;
  readonly proxy: Proxy;
  /** Target of an upgrade or rollback; the running version for rotation actions. */
  readonly version: string;
  readonly image?: string;
  /** A package URL or path, for proxies that are not container images. */
  readonly artifact?: string;
  /** Extra flags for the build (a debug build's --debug), for upgrade and rollback. */
  readonly flags?: readonly string[];
  /** For configure: Teleport's peer_listen_addr and peer_public_addr. */
  readonly peer?: { readonly listenAddr: string; readonly publicAddr: string };
}

/**
 * Runs one hook action through the proxy's `upgrade.method`. Methods that cannot act (manual;
 * rotation for a command) answer ok with 0 attempts. Never throws.
 */
export type RunHook = (req: HookRequest, signal: AbortSignal) => Promise<Result<Delivery, DeliveryFailure>>;
