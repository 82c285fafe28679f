import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import { err, ok, type Result } from '../model/result.js';
import type { ProcessState, SessionCounts, SessionKind } from '../model/snapshot.js';
import type { BuildBehaviour, BuildLookup } from './build-behaviour.js';
import type { PeerListener } from './configure-input.js';
import { faultAfterRestart, NO_FAULT, type Fault, type FaultPages } from './fault.js';
import { serveDiagnostics, type DiagTarget } from './diag-handler.js';
import { proxyHostId } from './host-id.js';
import { closeServer, hostPort, listen } from './http-util.js';
import { renderMetricsPage } from './metrics-page.js';
import type { TunnelEndpoint } from './node-tunnels.js';
import type { ResolvedProxyOptions } from './options.js';
import type { NodeReach, PeerConnection, PeerDialError } from './peer-reach.js';
import { goroutineCount, type GoroutineLoad, type PprofView } from './pprof.js';
import { hashString, type Prng } from './prng.js';
import { SSH_CONNECT_FAILURE_RATE, SSH_SHARE, type SessionModel } from './session-model.js';
import { SessionPool } from './session-pool.js';
import type { SimClock } from './sim-clock.js';
import { PendingTimers } from './pending-timers.js';

export type ProxyRunState = 'running' | 'draining' | 'stopped' | 'starting';
export type ShutdownMode = 'graceful' | 'immediate';

/** Teleport's fixed ceiling on a graceful shutdown: after it the process exits anyway. */
export const GRACEFUL_SHUTDOWN_LIMIT_MS = 30 * 3_600_000;
const HOUR_MS = 3_600_000;

export type SimProxySettings = ResolvedProxyOptions;

export interface SimProxyDeps {
  readonly clock: SimClock;
  readonly model: SessionModel;
  readonly rng: Prng;
  readonly pages: FaultPages;
  readonly startupMs: number;
  /** Live sessions above which new ones are refused (proxy_connection_limit_exceeded_total). */
  readonly connectionLimit: number;
  /** Behaviours by version: the running version's shows. */
  readonly builds: BuildLookup;
  /** proxy_peer_client_connections of this proxy (the fleet knows its peers). */
  readonly peerConnections: (self: SimProxy) => readonly PeerConnection[];
  /** The cluster's tunnel strategy is proxy_peering now: a process starting now opens its peer listener and client. */
  readonly peeringOn: () => boolean;
  readonly log: Logger | undefined;
}

/** What the control API shows for one proxy. */
export interface ProxyView {
  readonly name: string;
  readonly region: string;
  readonly hostId: string;
  readonly diagnosticUrl: string;
  readonly publicAddr: string;
  readonly version: string;
  readonly gitref: string;
  readonly state: ProxyRunState;
  /** False while a load balancer holds it out: no new sessions arrive (kept across restarts). */
  readonly inRotation: boolean;
  readonly processState: ProcessState | null;
  readonly startedAt: string;
  readonly stoppedAt: string | null;
  readonly sessions: SessionCounts;
  readonly sessionsTotal: number;
  readonly sessionsCut: number;
  readonly fault: Fault;
  readonly tunnels: { readonly node: number; readonly missing: number };
  readonly connectAttempts: number;
  readonly connectFailures: number;
  /** peer_public_addr while its peer listener runs: configured (action configure) and started under proxy_peering. */
  readonly peerAddr: string | null;
  /** It runs a peer client (it started under proxy_peering). */
  readonly peerClient: boolean;
  /** The behaviour of the build it runs (absent: a well-behaved build). */
  readonly build?: BuildBehaviour;
}

export interface AddSessions {
  readonly kind: SessionKind;
  readonly count: number;
  readonly durationMs: number;
}

/** `git describe --long --tags` of a release build. */
export function defaultGitref(version: string): string {
  const tag = version.startsWith('v') ? version : `v${version}`;
  return `${tag}-0-g${hashString(version).toString(16).padStart(8, '0').slice(0, 7)}`;
}

/**
 * One simulated Teleport proxy process: its sessions, counters and state, and its
 * diagnostic listener, which exists exactly while the process runs.
 */
export class SimProxy implements DiagTarget, TunnelEndpoint {
  readonly name: string;
  readonly region: string;
  readonly hostId: string;
  readonly host: string;
  readonly publicAddr: string;
  port: number;
  version: string;
  gitref: string;
  state: ProxyRunState = 'stopped';
  fault: Fault = NO_FAULT;
  pid = 0;
  sessionsCut = 0;
  inRotation = true;

  private startedAt = 0;
  private readyAt = 0;
  private stoppedAt: number | undefined;
  private drainStartedAt = 0;
  private nextArrivalAt = Infinity;
  private connectAttempts = 0;
  private connectFailures = 0;
  private limitExceeded = 0;
  private readonly peerDialErrors: Record<PeerDialError, number> = { PROXIES_UNREACHABLE: 0, TUNNEL_NOT_FOUND: 0 };
  /** Configuration (teleport.yaml), so it survives restarts. */
  private peer: PeerListener | undefined;
  /**
   * The process started under proxy_peering: Teleport reads the tunnel strategy once, at start,
   * and only then opens the peer listener and creates the peer client.
   */
  private peerStarted = false;
  /** A DB session went through since the process started: Teleport's DB gauge has a series from then on. */
  private dbSeen = false;
  private nodeTunnels = 0;
  private missingTunnels = 0;
  private readonly appTunnels: number;
  private readonly kubeTunnels: number;
  private readonly sessions = new SessionPool();
  private readonly timers = new PendingTimers();
  private server: Server | undefined;
  private closing: Promise<void> = Promise.resolve();
  private restarting = false;
  /** The behaviour this process shows, and since when (its start, or when the behaviour was set). */
  private build: BuildBehaviour | undefined;
  private buildSince = 0;
  private nextSelfRestartAt = Infinity;
  /** What a leaky build has leaked since the process started, accrued up to `accruedAt`. */
  private leakedBytes = 0;
  private leakedGoroutines = 0;
  private accruedAt = 0;

  constructor(
    settings: SimProxySettings,
    private readonly deps: SimProxyDeps,
  ) {
    this.name = settings.name;
    this.region = settings.region;
    this.hostId = proxyHostId(settings.name);
    this.host = settings.host;
    this.port = settings.port;
    this.publicAddr = settings.publicAddr;
    this.version = settings.version;
    this.gitref = settings.gitref ?? defaultGitref(settings.version);
    this.appTunnels = deps.rng.int(4);
    this.kubeTunnels = deps.rng.int(3);
  }

  get diagnosticUrl(): string {
    return `http://${hostPort(this.host, this.port)}`;
  }

  /** Comes up already at steady state, as if it had been running for `uptimeMs`. */
  async boot(uptimeMs: number): Promise<void> {
    const now = this.deps.clock.now();
    await this.openListener();
    this.startedAt = now - uptimeMs;
    this.readyAt = this.startedAt;
    this.pid = this.newPid();
    this.state = 'running';
    const { model, rng } = this.deps;
    model.steadyState(rng, now, (kind, endAt) => this.addSession(kind, endAt));
    this.peerStarted = this.deps.peeringOn();
    this.nextArrivalAt = now + model.nextGap(rng);
    this.accruedAt = now;
    this.adoptBuild(now);
    // Counters of a long-running process are already large; scrapers must cope with that.
    this.connectAttempts = Math.round((uptimeMs / model.meanGapMs) * SSH_SHARE);
    this.connectFailures = Math.round(this.connectAttempts * SSH_CONNECT_FAILURE_RATE * rng.between(0.5, 1.5));
  }

  /** Moves this process to sim time `t`: arrivals, ends, startup completing, drains finishing, self-restarts. */
  advanceTo(t: number): void {
    while (this.nextSelfRestartAt <= t) {
      const at = this.nextSelfRestartAt;
      this.step(at);
      this.restartItself(at);
    }
    this.step(t);
  }

  /** The behaviours by version changed: a process whose version's behaviour changed shows the new one from now. */
  buildsChanged(): void {
    if (this.deps.builds.get(this.version) === this.build) return;
    const now = this.deps.clock.now();
    this.accrue(now);
    this.adoptBuild(now);
    this.deps.log?.info({ proxy: this.name, region: this.region, version: this.version, build: this.build ?? null }, 'Proxy build behaviour changed');
  }

  private step(t: number): void {
    this.accrue(t);
    if (this.state === 'starting') {
      if (this.readyAt > t) return;
      this.becomeReady(this.readyAt);
    }
    if (this.state === 'running') {
      const { model, rng } = this.deps;
      while (this.nextArrivalAt <= t) {
        const at = this.nextArrivalAt;
        this.sessions.expireUntil(at);
        this.arrive(at);
        this.nextArrivalAt = at + model.nextGap(rng);
      }
      this.sessions.expireUntil(t);
    } else if (this.state === 'draining') {
      const limitAt = this.drainStartedAt + GRACEFUL_SHUTDOWN_LIMIT_MS;
      const lastEnd = this.sessions.expireUntil(Math.min(t, limitAt));
      if (this.sessions.total() === 0) {
        this.exit(Math.max(lastEnd, this.drainStartedAt), 'Proxy drained and exited');
      } else if (t >= limitAt) {
        this.sessionsCut += this.sessions.cutAll();
        this.exit(limitAt, 'Proxy hit the graceful shutdown limit and exited');
      }
    }
  }

  /** SIGQUIT (graceful: no new sessions, exit when the last ends) or SIGTERM (immediate: cut them). */
  shutdown(mode: ShutdownMode): Result<void, string> {
    if (this.restarting) return err(`proxy "${this.name}" is restarting`);
    if (this.state === 'stopped') return err(`proxy "${this.name}" is already stopped`);
    const now = this.deps.clock.now();
    if (mode === 'immediate') {
      const cut = this.sessions.cutAll();
      this.sessionsCut += cut;
      this.exit(now, 'Proxy shut down immediately', { sessionsCut: cut });
      return ok(undefined);
    }
    if (this.state === 'draining') return ok(undefined);
    if (this.sessions.total() === 0) {
      this.exit(now, 'Proxy shut down gracefully with no sessions');
      return ok(undefined);
    }
    this.state = 'draining';
    this.drainStartedAt = now;
    this.nextArrivalAt = Infinity;
    // Teleport closes every listener at the start of a graceful shutdown, the diagnostic one included.
    this.closeListener();
    this.deps.log?.info({ proxy: this.name, region: this.region, sessions: this.sessions.total() }, 'Proxy started draining');
    return ok(undefined);
  }

  /**
   * Starts the process again, optionally as another version; a running process is stopped
   * immediately first. `onStopped` runs between stop and start (tunnels drop then).
   */
  async restart(change: { readonly version?: string; readonly gitref?: string }, onStopped: () => void): Promise<Result<void, string>> {
    if (this.restarting) return err(`proxy "${this.name}" is already restarting`);
    this.restarting = true;
    try {
      if (this.state !== 'stopped') {
        const cut = this.sessions.cutAll();
        this.sessionsCut += cut;
        this.exit(this.deps.clock.now(), 'Proxy stopped for restart', { sessionsCut: cut });
      }
      onStopped();
      await this.closing;
      try {
        await this.openListener();
      } catch (e) {
        const code = e instanceof Error && 'code' in e ? String(e.code) : String(e);
        this.deps.log?.warn({ proxy: this.name, region: this.region, err: e }, 'Proxy failed to listen');
        return err(`proxy "${this.name}" could not listen on ${hostPort(this.host, this.port)} (${code})`);
      }
      if (change.version !== undefined) this.version = change.version;
      if (change.gitref !== undefined) this.gitref = change.gitref;
      else if (change.version !== undefined) this.gitref = defaultGitref(change.version);
      this.fault = faultAfterRestart(this.fault);
      const now = this.deps.clock.now();
      this.startedAt = now;
      this.readyAt = now + this.deps.startupMs;
      this.stoppedAt = undefined;
      this.pid = this.newPid();
      this.state = 'starting';
      this.startProcess();
      this.resetLeaks(now);
      this.adoptBuild(now);
      this.deps.log?.info({ proxy: this.name, region: this.region, version: this.version, gitref: this.gitref }, 'Proxy restarted');
      if (this.deps.startupMs <= 0) this.becomeReady(now);
      return ok(undefined);
    } finally {
      this.restarting = false;
    }
  }

  addSessions(req: AddSessions): Result<void, string> {
    if (this.state !== 'running') return err(`proxy "${this.name}" is ${this.state} and accepts no new sessions`);
    const endAt = this.deps.clock.now() + req.durationMs;
    for (let i = 0; i < req.count; i++) this.addSession(req.kind, endAt);
    if (req.kind === 'ssh') this.connectAttempts += req.count;
    return ok(undefined);
  }

  /** The process takes new connections, peer dials included (a draining one closed its listeners). */
  get up(): boolean {
    return this.state === 'running';
  }

  /** peer_public_addr while the peer listener runs; the heartbeat's `peer_addr`. */
  get peerAddr(): string | undefined {
    return this.peerStarted ? this.peer?.publicAddr : undefined;
  }

  get peerClient(): boolean {
    return this.peerStarted;
  }

  /**
   * Real Teleport reads peer_listen_addr and peer_public_addr from teleport.yaml at start, so
   * the automation writes them and restarts the proxy; the simulator applies them live, with
   * what a restart would pick up now (the cluster's tunnel strategy), without cutting sessions.
   */
  setPeerListener(peer: PeerListener): void {
    this.peer = peer;
    this.peerStarted = this.deps.peeringOn();
    this.deps.log?.info({ proxy: this.name, region: this.region, peer, listening: this.peerStarted }, 'Proxy peer listener set');
  }

  /** One dial to a node (background load while peering is on): counted as Teleport counts it. */
  recordNodeDial(r: NodeReach): void {
    this.connectAttempts++;
    if (r.reachable) return;
    this.connectFailures++;
    if (r.dialError !== undefined) this.peerDialErrors[r.dialError]++;
  }

  /** Like a load balancer (de)registering the proxy: existing sessions carry on either way. */
  setRotation(inRotation: boolean): void {
    if (this.inRotation === inRotation) return;
    this.inRotation = inRotation;
    this.deps.log?.info({ proxy: this.name, region: this.region, inRotation }, inRotation ? 'Proxy put back in rotation' : 'Proxy taken out of rotation');
  }

  setFault(fault: Fault): void {
    this.fault = fault;
    this.deps.log?.info({ proxy: this.name, region: this.region, fault }, 'Proxy fault set');
  }

  /** Closes the listener for good (simulator shutdown). */
  async close(): Promise<void> {
    this.closeListener();
    await this.closing;
  }

  // DiagTarget

  processState(): ProcessState {
    if (this.fault.mode === 'degraded') return 'degraded';
    if (this.fault.mode === 'recovering') return 'recovering';
    if (this.state === 'starting') return 'starting';
    return this.flappedDown() ? 'degraded' : 'ok';
  }

  metricsPage(): string {
    const sessions = this.sessions.counts();
    const baseMemory = this.baseMemoryBytes();
    const leaked = Math.round(this.leakedBytes);
    return renderMetricsPage({
      processState: this.processState(),
      version: this.version,
      gitref: this.gitref,
      sessions,
      tunnels: { node: this.nodeTunnels, app: this.appTunnels, kube: this.kubeTunnels },
      missingTunnels: this.missingTunnels,
      connectAttempts: this.connectAttempts,
      connectFailures: this.connectFailures,
      connectionLimitExceeded: this.limitExceeded,
      peerDialErrors: this.peerDialErrors,
      peerConnections: this.deps.peerConnections(this),
      dbSeen: this.dbSeen,
      startTimeSeconds: this.startedAt / 1000,
      residentMemoryBytes: baseMemory + leaked,
      goroutines: goroutineCount(this.goroutineLoad()),
      // Only a build with a behaviour shows the Go heap, so a default page is as it was.
      ...(this.build === undefined ? {} : { heapAllocBytes: this.heapAllocBytes(baseMemory) + leaked }),
    });
  }

  pprof(): PprofView | undefined {
    if (this.build?.debug !== true) return undefined;
    return {
      load: this.goroutineLoad(),
      uptimeMs: this.deps.clock.now() - this.startedAt,
      leakingMs: this.deps.clock.now() - Math.max(this.startedAt, this.buildSince),
      heapAllocBytes: this.heapAllocBytes(this.baseMemoryBytes()) + Math.round(this.leakedBytes),
      version: this.version,
      pid: this.pid,
    };
  }

  defer(fn: () => void, ms: number): void {
    this.timers.defer(fn, ms);
  }

  // TunnelEndpoint

  acceptsTunnels(): boolean {
    return this.state === 'running';
  }

  downSince(): number | undefined {
    return this.state === 'stopped' ? this.stoppedAt ?? this.deps.clock.now() : undefined;
  }

  setTunnelCounts(node: number, missing: number): void {
    this.nodeTunnels = node;
    this.missingTunnels = missing;
  }

  /** When the last heartbeat expires; a stopped proxy leaves its record behind until then. */
  recordExpiresAt(now: number, ttlMs: number): number {
    return (this.state === 'stopped' ? this.stoppedAt ?? now : now) + ttlMs;
  }

  view(): ProxyView {
    return {
      name: this.name,
      region: this.region,
      hostId: this.hostId,
      diagnosticUrl: this.diagnosticUrl,
      publicAddr: this.publicAddr,
      version: this.version,
      gitref: this.gitref,
      state: this.state,
      inRotation: this.inRotation,
      processState: this.state === 'stopped' ? null : this.processState(),
      startedAt: new Date(this.startedAt).toISOString(),
      stoppedAt: this.stoppedAt === undefined ? null : new Date(this.stoppedAt).toISOString(),
      sessions: this.sessions.counts(),
      sessionsTotal: this.sessions.total(),
      sessionsCut: this.sessionsCut,
      fault: this.fault,
      tunnels: { node: this.nodeTunnels, missing: this.missingTunnels },
      connectAttempts: this.connectAttempts,
      connectFailures: this.connectFailures,
      peerAddr: this.peerAddr ?? null,
      peerClient: this.peerStarted,
      ...(this.build === undefined ? {} : { build: this.build }),
    };
  }

  private arrive(at: number): void {
    // Out of rotation, the load balancer sends the connection elsewhere.
    if (!this.inRotation) return;
    const { model, rng, connectionLimit } = this.deps;
    const kind = model.kind(rng);
    if (kind === 'ssh') {
      this.connectAttempts++;
      if (rng.chance(this.build?.connectFailureRatio ?? SSH_CONNECT_FAILURE_RATE)) {
        this.connectFailures++;
        return;
      }
    }
    if (this.sessions.total() >= connectionLimit) {
      this.limitExceeded++;
      return;
    }
    this.addSession(kind, at + model.duration(rng));
  }

  private addSession(kind: SessionKind, endAt: number): void {
    if (kind === 'db') this.dbSeen = true;
    this.sessions.add(kind, endAt);
  }

  /** What a process start reads: the tunnel strategy (peer listener and client), and fresh gauges. */
  private startProcess(): void {
    this.peerStarted = this.deps.peeringOn();
    this.dbSeen = false;
  }

  /** Takes on the behaviour of the version it runs, from `since`. */
  private adoptBuild(since: number): void {
    this.build = this.deps.builds.get(this.version);
    this.buildSince = since;
    const every = this.build?.restartEveryMs;
    this.nextSelfRestartAt = every === undefined || this.state === 'stopped' || this.state === 'draining' ? Infinity : since + every;
  }

  private resetLeaks(at: number): void {
    this.leakedBytes = 0;
    this.leakedGoroutines = 0;
    this.accruedAt = at;
  }

  private accrue(t: number): void {
    const dt = t - this.accruedAt;
    this.accruedAt = t;
    const b = this.build;
    if (b === undefined || dt <= 0 || this.state === 'stopped') return;
    this.leakedBytes += ((b.memoryLeakBytesPerHour ?? 0) * dt) / HOUR_MS;
    this.leakedGoroutines += ((b.goroutineLeakPerHour ?? 0) * dt) / HOUR_MS;
  }

  /** A flapping build is ok for N sim seconds once ready, then degraded for N, and so on. */
  private flappedDown(): boolean {
    const periodS = this.build?.flapProcessState;
    if (periodS === undefined || this.state === 'stopped') return false;
    const from = Math.max(this.readyAt, this.buildSince);
    const now = this.deps.clock.now();
    return now >= from && Math.floor((now - from) / (periodS * 1000)) % 2 === 1;
  }

  private tunnelCount(): number {
    return this.nodeTunnels + this.appTunnels + this.kubeTunnels;
  }

  /** Plausible figures for a proxy: a base plus a share per session and tunnel. */
  private baseMemoryBytes(): number {
    return 96 * 1024 * 1024 + this.sessions.total() * 180 * 1024 + this.tunnelCount() * 48 * 1024 + (this.pid % 97) * 4096;
  }

  private goroutineLoad(): GoroutineLoad {
    return { sessions: this.sessions.total(), tunnels: this.tunnelCount(), leaked: Math.floor(this.leakedGoroutines) };
  }

  /** Live heap: a bit under half of resident memory, as for a Go server at rest. */
  private heapAllocBytes(baseMemory: number): number {
    return Math.round(baseMemory * 0.45);
  }

  /**
   * A build with restartEveryMs: the process dies (sessions cut) and its supervisor starts it
   * again at once; the diagnostic listener stays up, answering `starting` until it is ready.
   */
  private restartItself(at: number): void {
    if (this.state !== 'running' && this.state !== 'starting') {
      this.nextSelfRestartAt = Infinity;
      return;
    }
    const cut = this.sessions.cutAll();
    this.sessionsCut += cut;
    this.fault = faultAfterRestart(this.fault);
    this.startedAt = at;
    this.readyAt = at + this.deps.startupMs;
    this.pid = this.newPid();
    this.state = 'starting';
    this.nextArrivalAt = Infinity;
    this.startProcess();
    this.resetLeaks(at);
    this.adoptBuild(at);
    this.deps.log?.info({ proxy: this.name, region: this.region, version: this.version, sessionsCut: cut }, 'Proxy restarted itself');
    if (this.deps.startupMs <= 0) this.becomeReady(at);
  }

  private becomeReady(at: number): void {
    this.state = 'running';
    this.nextArrivalAt = at + this.deps.model.nextGap(this.deps.rng);
    this.deps.log?.info({ proxy: this.name, region: this.region, version: this.version }, 'Proxy became ready');
  }

  private exit(at: number, message: string, extra: Record<string, unknown> = {}): void {
    this.state = 'stopped';
    this.stoppedAt = at;
    this.nextArrivalAt = Infinity;
    this.closeListener();
    this.deps.log?.info({ proxy: this.name, region: this.region, ...extra }, message);
  }

  private newPid(): number {
    return 1000 + this.deps.rng.int(4_000_000);
  }

  private async openListener(): Promise<void> {
    const server = createServer({ keepAliveTimeout: 5_000 }, (req, res) => serveDiagnostics(this, this.deps.pages, req, res));
    this.port = await listen(server, this.host, this.port);
    this.server = server;
  }

  private closeListener(): void {
    this.timers.clear();
    const server = this.server;
    this.server = undefined;
    if (server) this.closing = closeServer(server);
  }
}
