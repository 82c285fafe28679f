import type { Delivery, DeliveryFailure, HookRequest, NoticePayload } from '../../../src/model/actuators.js';
import type { ProxyFleetSpec } from '../../../src/model/fleet.js';
import { err, ok, type Result } from '../../../src/model/result.js';
import type { NoticeChannel } from '../../../src/model/rollout.js';
import type { FleetSnapshot, ProxyObservation } from '../../../src/model/snapshot.js';
import type { ManualClock } from '../../helpers/manual-clock.js';
import { metrics } from '../../helpers/snapshot-fixture.js';
import { exactJson } from './exact-json.js';

interface WorldProxy {
  readonly name: string;
  readonly region: string;
  version: string;
  sessions: number;
  /** Healthy apart from restarts; a proxy that is not stays not ready. */
  healthy: boolean;
  inLoadBalancer: boolean;
  /** Back in the load balancer by its own doing (a restart registered it again): users keep coming. */
  rejoined: boolean;
  restartUntil: number;
  /** Upgrades and rollbacks that restarted it. */
  restarts: number;
  /** When its process started (process_start_time_seconds). */
  processStartAt: number;
  connectAttempts: number;
  connectFailures: number;
}

export interface ReceivedNotice {
  readonly id: string;
  readonly channel: string;
  readonly region: string;
  readonly leadTime: string;
  readonly at: number;
}

export interface HookCall {
  readonly req: HookRequest;
  readonly at: number;
  /** Sessions open on the proxy when the call came in. */
  readonly sessions: number;
  /** False for a repeated id: nothing happened. */
  readonly tookEffect: boolean;
}

export interface WorldOptions {
  readonly sessionHalfLifeMs?: number;
  readonly startupMs?: number;
  /** Versions that start but never become ready. */
  readonly badVersions?: readonly string[];
  /** Channels that fail this many times before they work. */
  readonly channelFailures?: Readonly<Record<string, number>>;
  /** Node connections a ready proxy makes per minute (default 0), and the share that fail, by version. */
  readonly connectsPerMinute?: number;
  readonly connectFailureRatio?: Readonly<Record<string, number>>;
  /** The Auth Service the observer reports at first (see RolloutWorld.auth). */
  readonly auth?: { readonly version?: string };
}

/** What RolloutWorld.saveState keeps. */
export interface WorldState {
  readonly proxies: WorldProxy[];
  readonly notices: ReceivedNotice[];
  readonly hooks: HookCall[];
  readonly seen: string[];
  readonly failures: Record<string, number>;
  readonly lastScrapeAt: number;
  readonly auth: { version?: string } | undefined;
}

/**
 * The outside world of a rollout for tests: proxies whose sessions end over time, a load
 * balancer, an upgrade hook that restarts a proxy (once per id, as a real receiver would), and
 * notice channels. It records what happened so tests can judge the result, not the calls.
 */
export class RolloutWorld {
  readonly proxies = new Map<string, WorldProxy>();
  readonly notices: ReceivedNotice[] = [];
  readonly hooks: HookCall[] = [];
  private readonly seenHookIds = new Set<string>();
  private readonly channelFailuresLeft: Record<string, number>;
  private lastScrapeAt: number;
  /**
   * The Auth Service as the observer reports it, for fleets that name one (spec.auth): `version`
   * absent while its page cannot be read. Undefined: no Auth observation in the snapshot.
   */
  auth: { version?: string } | undefined;

  constructor(
    fleet: ProxyFleetSpec,
    private readonly clock: ManualClock,
    sessions: (name: string) => number,
    private readonly opts: WorldOptions = {},
  ) {
    for (const p of fleet.proxies)
      this.proxies.set(p.name, { name: p.name, region: p.region, version: p.version, sessions: sessions(p.name), healthy: true, inLoadBalancer: true, rejoined: false, restartUntil: 0, restarts: 0, processStartAt: clock.now() - 86_400_000, connectAttempts: 0, connectFailures: 0 });
    this.channelFailuresLeft = { ...(opts.channelFailures ?? {}) };
    this.lastScrapeAt = clock.now();
    this.auth = opts.auth && { ...opts.auth };
  }

  /** Everything that changes as the world runs, to go on from there in a copy (restored). */
  saveState(): WorldState {
    return structuredClone({ proxies: [...this.proxies.values()], notices: this.notices, hooks: this.hooks, seen: [...this.seenHookIds], failures: this.channelFailuresLeft, lastScrapeAt: this.lastScrapeAt, auth: this.auth });
  }

  /** A world in a state saveState gave (on the caller's clock). */
  static restored(fleet: ProxyFleetSpec, clock: ManualClock, sessions: (name: string) => number, opts: WorldOptions, state: WorldState): RolloutWorld {
    const w = new RolloutWorld(fleet, clock, sessions, opts);
    const s = structuredClone(state);
    w.proxies.clear();
    for (const p of s.proxies) w.proxies.set(p.name, p);
    w.notices.push(...s.notices);
    w.hooks.push(...s.hooks);
    for (const id of s.seen) w.seenHookIds.add(id);
    Object.assign(w.channelFailuresLeft, s.failures);
    w.lastScrapeAt = s.lastScrapeAt;
    w.auth = s.auth;
    return w;
  }

  /**
   * What the world will do from now on and everything a test judges about its past: the proxies,
   * the hook ids seen, the failures left, the earliest delivery of each notice (the invariants ask
   * whether one came early enough), the notice ids delivered and the hooks that took effect.
   */
  fingerprint(): string {
    const earliest = new Map<string, number>();
    for (const n of this.notices) {
      const k = `${n.region} ${n.leadTime} ${n.channel}`;
      earliest.set(k, Math.min(earliest.get(k) ?? Infinity, n.at));
    }
    const ids = [...new Set(this.notices.map((n) => `${n.id} ${n.channel}`))].sort();
    const effective = this.hooks.filter((h) => h.tookEffect).map((h) => [h.req, h.at, h.sessions]);
    return exactJson([[...this.proxies.values()], [...this.seenHookIds].sort(), this.channelFailuresLeft, this.lastScrapeAt, this.auth, [...earliest].sort(), ids, effective]);
  }

  setHealthy(name: string, healthy: boolean): void {
    const p = this.proxies.get(name);
    if (p) p.healthy = healthy;
  }

  /**
   * The process restarts on its own (a crash its supervisor answers, or a cluster reset), as
   * `version` when given: a restarted Teleport registers with its load balancer again, and new
   * sessions (`sessions`) reach it.
   */
  crashRestart(name: string, o: { readonly version?: string; readonly sessions?: number } = {}): void {
    const p = this.proxies.get(name);
    if (!p) return;
    if (o.version !== undefined) p.version = o.version;
    p.processStartAt = this.clock.now();
    p.restartUntil = this.clock.now() + (this.opts.startupMs ?? 20_000);
    p.sessions = o.sessions ?? 0;
    this.rejoin(name);
  }

  /** Back in the load balancer behind the rollout's back (a restart, an operator's automation). */
  rejoin(name: string): void {
    const p = this.proxies.get(name);
    if (!p) return;
    p.inLoadBalancer = true;
    p.rejoined = true;
  }

  /** Users open sessions on it (only where they can reach it: in the load balancer). */
  addSessions(name: string, n: number): void {
    const p = this.proxies.get(name);
    if (p?.inLoadBalancer) p.sessions += n;
  }

  /** Time passes: sessions on proxies nobody is sent to end (half-life); a new scrape is taken. */
  tick(ms: number, heldByRollout: ReadonlySet<string>): void {
    const halfLife = this.opts.sessionHalfLifeMs ?? 600_000;
    for (const p of this.proxies.values()) {
      // A proxy that rejoined the load balancer gets new sessions as fast as old ones end.
      const reachable = p.inLoadBalancer && p.rejoined;
      if (!reachable && (!p.inLoadBalancer || heldByRollout.has(p.name))) p.sessions = Math.floor(p.sessions * 0.5 ** (ms / halfLife));
      if (this.readyz(p) !== 200) continue;
      const attempts = Math.round(((this.opts.connectsPerMinute ?? 0) * ms) / 60_000);
      p.connectAttempts += attempts;
      p.connectFailures += Math.round(attempts * (this.opts.connectFailureRatio?.[p.version] ?? 0));
    }
    this.lastScrapeAt = this.clock.now();
  }

  private readyz(p: WorldProxy): number {
    if (this.clock.now() < p.restartUntil) return 400;
    if (!p.healthy || (this.opts.badVersions ?? []).includes(p.version)) return 503;
    return 200;
  }

  isReady(name: string): boolean {
    const p = this.proxies.get(name);
    return p !== undefined && this.readyz(p) === 200;
  }

  snapshot(): FleetSnapshot {
    const at = new Date(this.lastScrapeAt).toISOString();
    const proxies: ProxyObservation[] = [...this.proxies.values()].map((p) => {
      const readyzStatus = this.readyz(p);
      const m = metrics({ version: p.version, sessions: { ssh: p.sessions, kube_exec: 0, kube_portforward: 0, kube_join: 0, db: 0 }, connectAttempts: p.connectAttempts, connectFailures: p.connectFailures, startTimeSeconds: p.processStartAt / 1000 });
      return { name: p.name, region: p.region, up: true, ready: readyzStatus === 200, consecutiveFailures: 0, readyzStatus, metrics: m, sessionsTotal: p.sessions, lastScrapeAt: at, lastSuccessAt: at, scrapeDurationMs: 2 };
    });
    const auth = this.auth && {
      ...(this.auth.version === undefined ? { error: { reason: 'connection_refused' as const, message: 'http://auth.example.com:3000/metrics: connection refused', at } } : { version: this.auth.version }),
      observedAt: at,
      servers: [],
    };
    return { observedAt: at, fleet: { name: 'demo', namespace: 'default', generation: 1 }, proxies, ...(auth ? { auth } : {}) };
  }

  readonly sendNotice = async (channel: NoticeChannel, notice: NoticePayload): Promise<Result<Delivery, DeliveryFailure>> => {
    const left = this.channelFailuresLeft[channel.name] ?? 0;
    if (left > 0) {
      this.channelFailuresLeft[channel.name] = left - 1;
      return err({ attempts: 3, error: `${channel.name}: 503 Service Unavailable` });
    }
    this.notices.push({ id: notice.id, channel: channel.name, region: notice.region, leadTime: notice.leadTime, at: this.clock.now() });
    return ok({ attempts: 1 });
  };

  readonly runHook = async (req: HookRequest): Promise<Result<Delivery, DeliveryFailure>> => {
    const p = this.proxies.get(req.proxy.name);
    if (!p) return err({ attempts: 1, error: `unknown proxy ${req.proxy.name}` });
    const fresh = !this.seenHookIds.has(req.id);
    this.hooks.push({ req, at: this.clock.now(), sessions: p.sessions, tookEffect: fresh });
    if (!fresh) return ok({ attempts: 1 });
    this.seenHookIds.add(req.id);
    switch (req.action) {
      case 'out-of-rotation':
        p.inLoadBalancer = false;
        p.rejoined = false;
        break;
      case 'in-rotation':
        p.inLoadBalancer = true;
        break;
      case 'upgrade':
      case 'rollback':
        p.version = req.version;
        p.sessions = 0;
        p.restarts++;
        p.processStartAt = this.clock.now();
        p.restartUntil = this.clock.now() + (this.opts.startupMs ?? 20_000);
        break;
    }
    return ok({ attempts: 1 });
  };
}
