import { createServer, type Server } from 'node:http';
import { err, ok, type Result } from '../model/result.js';
import type { PeerAllowList } from './allow-list-input.js';
import { BuildBook, type BuildBehaviour } from './build-behaviour.js';
import type { ClusterNetworkingInput } from './cluster-networking-input.js';
import type { PeerListener } from './configure-input.js';
import { createControlHandler, type FleetControl } from './control-api.js';
import { FaultPages, type Fault } from './fault.js';
import { FleetPeering, type Denial, type NodeListing, type PeeringView, type ReachView } from './fleet-peering.js';
import { closeServer, hostPort, listen } from './http-util.js';
import { HEARTBEAT_TTL_MS, tctlProxy, type TctlNode, type TctlProxy } from './inventory.js';
import { NodeTunnels } from './node-tunnels.js';
import {
  DEFAULT_NODES_PER_REGION,
  resolveOptions,
  type FleetSim,
  type FleetSimOptions,
  type ResolvedFleetSimOptions,
  type SimProxyInfo,
} from './options.js';
import { PeeringState, type ClusterNetworkingResource } from './peering-state.js';
import { deriveSeed, Prng } from './prng.js';
import { SessionModel } from './session-model.js';
import { readClockFile, writeClockFile } from './clock-file.js';
import { SimAuth, type AuthView } from './sim-auth.js';
import { SimClock } from './sim-clock.js';
import { SimProxy, type AddSessions, type ProxyView, type ShutdownMode } from './sim-proxy.js';

const DAY_MS = 86_400_000;
/** Sessions above this multiple of the target are refused as over the connection limit. */
const CONNECTION_LIMIT_FACTOR = 4;
const MIN_CONNECTION_LIMIT = 100;
/** Real ms between saves of the clock file. */
const CLOCK_SAVE_EVERY_REAL_MS = 1_000;
/** The saved time runs this many save periods ahead, so a late save still covers what the clock showed. */
const CLOCK_SAVE_MARGIN = 3;

class FleetSimulator implements FleetSim, FleetControl {
  readonly clock: SimClock;
  controlUrl = '';
  proxies: readonly SimProxyInfo[] = [];
  auth: { readonly diagnosticUrl: string } | undefined;

  private readonly byName = new Map<string, SimProxy>();
  private readonly list: SimProxy[];
  private readonly tunnels: NodeTunnels;
  private readonly peering: FleetPeering;
  private readonly builds: BuildBook;
  private readonly authServer: SimAuth | undefined;
  private readonly control: Server;
  private lastSaved: Promise<void> = Promise.resolve();
  private lastSavedReal = 0;
  private ticker: NodeJS.Timeout | undefined;
  private closed: Promise<void> | undefined;

  constructor(private readonly o: ResolvedFleetSimOptions) {
    this.clock = new SimClock(o.startAt);
    const model = new SessionModel(o.sessionsPerProxy);
    const pages = new FaultPages();
    this.builds = new BuildBook(o.builds);
    const connectionLimit = Math.max(MIN_CONNECTION_LIMIT, Math.ceil(o.sessionsPerProxy * CONNECTION_LIMIT_FACTOR));
    this.list = o.proxies.map(
      (p) =>
        new SimProxy(p, {
          clock: this.clock,
          model,
          rng: new Prng(deriveSeed(o.seed, `proxy:${p.name}`)),
          pages,
          startupMs: o.startupMs,
          connectionLimit,
          builds: this.builds,
          peerConnections: (self) => this.peering.connectionsFrom(self),
          peeringOn: () => this.peering.state.peering,
          log: o.log,
        }),
    );
    for (const p of this.list) this.byName.set(p.name, p);
    this.authServer = o.auth && new SimAuth(o.auth, { clock: this.clock, pages, startupMs: o.startupMs, log: o.log?.child({ service: 'auth' }) });
    const versions = new Map<string, string>();
    for (const p of o.proxies) if (!versions.has(p.region)) versions.set(p.region, p.version);
    this.tunnels = new NodeTunnels({
      endpoints: this.list,
      nodes: o.nodes,
      perRegion: DEFAULT_NODES_PER_REGION,
      connectionCount: o.agentConnectionCount,
      rng: new Prng(deriveSeed(o.seed, 'nodes')),
      seed: o.seed,
      versionOf: (region) => versions.get(region) ?? '0.0.0',
      reportsProxyIds: () => this.peering.state.peering,
      now: o.startAt,
    });
    this.peering = new FleetPeering(new PeeringState(), this.list, this.tunnels, new Prng(deriveSeed(o.seed, 'node-dials')), o.log);
    this.control = createServer(createControlHandler(this, { hookSecret: o.hookSecret, log: o.log }));
  }

  async start(): Promise<void> {
    const uptimeRng = new Prng(deriveSeed(this.o.seed, 'uptime'));
    await Promise.all(this.list.map((p) => p.boot(uptimeRng.between(DAY_MS, 20 * DAY_MS))));
    if (this.authServer) {
      await this.authServer.boot(uptimeRng.between(DAY_MS, 20 * DAY_MS));
      this.auth = Object.freeze({ diagnosticUrl: this.authServer.diagnosticUrl });
    }
    this.proxies = Object.freeze(
      this.list.map((p) => Object.freeze({ name: p.name, region: p.region, hostId: p.hostId, diagnosticUrl: p.diagnosticUrl })),
    );
    this.tunnels.reconcile(this.clock.now());
    const port = await listen(this.control, this.o.controlHost, this.o.controlPort);
    this.controlUrl = `http://${hostPort(this.o.controlHost, port)}`;
    if (this.o.tickMs > 0) this.startTicker();
    this.o.log?.info({ proxies: this.list.length, controlUrl: this.controlUrl, timeFactor: this.o.timeFactor }, 'Fleet simulator started');
  }

  advance(simMs: number): void {
    if (!Number.isFinite(simMs) || simMs < 0) throw new RangeError(`advance(simMs): simMs must be a finite number >= 0, got ${simMs}`);
    const now = this.clock.advance(simMs);
    for (const p of this.list) p.advanceTo(now);
    this.tunnels.reconcile(now);
    this.peering.dial(simMs);
  }

  close(): Promise<void> {
    this.closed ??= this.shutdownAll();
    return this.closed;
  }

  // FleetControl

  clockReading(): { readonly now: number; readonly timeFactor: number } {
    // Without the ticker only advance() moves the clock: a follower must not extrapolate.
    return { now: this.clock.now(), timeFactor: this.o.tickMs > 0 ? this.o.timeFactor : 0 };
  }

  authView(): AuthView | undefined {
    return this.authServer?.view();
  }

  async restartAuth(change: { version?: string; gitref?: string }): Promise<Result<AuthView, string> | undefined> {
    if (!this.authServer) return undefined;
    if (this.closed) return err('the simulator is closed');
    const r = await this.authServer.restart(change);
    // Closed while listening: do not leave a listener behind.
    if (this.closed) await this.authServer.close();
    return r;
  }

  listProxies(): readonly ProxyView[] {
    return this.list.map((p) => p.view());
  }

  proxyView(name: string): ProxyView | undefined {
    return this.byName.get(name)?.view();
  }

  shutdown(name: string, mode: ShutdownMode): Result<ProxyView, string> {
    const p = this.proxy(name);
    const r = p.shutdown(mode);
    if (!r.ok) return r;
    this.tunnels.reconcile(this.clock.now());
    return ok(p.view());
  }

  async restart(name: string, change: { version?: string; gitref?: string }): Promise<Result<ProxyView, string>> {
    if (this.closed) return err('the simulator is closed');
    const p = this.proxy(name);
    const r = await p.restart(change, () => this.tunnels.reconcile(this.clock.now()));
    if (!r.ok) return r;
    // Closed while listening: do not leave a listener behind.
    if (this.closed) await p.close();
    this.tunnels.reconcile(this.clock.now());
    return ok(p.view());
  }

  setFault(name: string, fault: Fault): ProxyView {
    const p = this.proxy(name);
    p.setFault(fault);
    return p.view();
  }

  addSessions(name: string, req: AddSessions): Result<ProxyView, string> {
    const p = this.proxy(name);
    const r = p.addSessions(req);
    return r.ok ? ok(p.view()) : r;
  }

  setRotation(name: string, inRotation: boolean): ProxyView {
    const p = this.proxy(name);
    p.setRotation(inRotation);
    return p.view();
  }

  listBuilds(): Readonly<Record<string, BuildBehaviour>> {
    return this.builds.list();
  }

  buildOf(version: string): BuildBehaviour | undefined {
    return this.builds.get(version);
  }

  setBuild(version: string, behaviour: BuildBehaviour): BuildBehaviour {
    const set = this.builds.set(version, behaviour);
    for (const p of this.list) p.buildsChanged();
    this.o.log?.info({ version, build: set }, 'Build behaviour set');
    return set;
  }

  deleteBuild(version: string): boolean {
    const had = this.builds.delete(version);
    if (had) {
      for (const p of this.list) p.buildsChanged();
      this.o.log?.info({ version }, 'Build behaviour removed');
    }
    return had;
  }

  configurePeer(name: string, peer: PeerListener): Result<ProxyView, string> {
    return ok(this.peering.configure(this.proxy(name), peer));
  }

  setClusterNetworking(input: ClusterNetworkingInput): ClusterNetworkingResource {
    const stored = this.peering.state.setClusterNetworking(input);
    // Agents follow the cluster's strategy at once (proxy_ids, and so who counts as missing); proxies only at their next start.
    this.tunnels.reconcile(this.clock.now());
    return stored;
  }

  clusterNetworking(): ClusterNetworkingResource {
    return this.peering.state.clusterNetworking;
  }

  applyAllowList(list: PeerAllowList): Result<PeerAllowList, string> {
    return this.peering.state.applyAllowList(list);
  }

  isProxy(name: string): boolean {
    return this.byName.has(name);
  }

  hasNode(node: string): boolean {
    return this.tunnels.find(node) !== undefined;
  }

  reach(proxy: string, node: string): Result<ReachView, Denial> {
    return this.peering.reach(proxy, node);
  }

  listNodes(): readonly NodeListing[] {
    return this.peering.listNodes();
  }

  pinNode(node: string, proxies: readonly string[]): Result<NodeListing, Denial> {
    return this.peering.pin(node, proxies, this.clock.now());
  }

  unpinNode(node: string): Result<NodeListing, Denial> {
    return this.peering.unpin(node, this.clock.now());
  }

  peeringView(): PeeringView {
    return this.peering.view();
  }

  nodesInventory(): readonly TctlNode[] {
    return this.tunnels.inventory(this.clock.now());
  }

  proxiesInventory(): readonly TctlProxy[] {
    const now = this.clock.now();
    const out: TctlProxy[] = [];
    for (const p of this.list) {
      const expiresAt = p.recordExpiresAt(now, HEARTBEAT_TTL_MS);
      if (expiresAt > now) out.push(tctlProxy({ hostId: p.hostId, name: p.name, publicAddr: p.publicAddr, version: p.version, peerAddr: p.peerAddr, expiresAt }));
    }
    return out;
  }

  private proxy(name: string): SimProxy {
    const p = this.byName.get(name);
    if (!p) throw new Error(`no proxy named "${name}"`);
    return p;
  }

  private startTicker(): void {
    let last = performance.now();
    this.ticker = setInterval(() => {
      const real = performance.now();
      const elapsed = real - last;
      last = real;
      try {
        this.advance(elapsed * this.o.timeFactor);
      } catch (e) {
        this.o.log?.error({ err: e }, 'Fleet simulator tick failed');
      }
      if (real - this.lastSavedReal >= CLOCK_SAVE_EVERY_REAL_MS) this.saveClock(real);
    }, this.o.tickMs);
    // The listeners keep a demo alive; the timer alone must not keep a finished test running.
    this.ticker.unref();
  }

  /**
   * Keeps the clock file ahead of every time the clock can show before the next save (a crash
   * between saves must not send the clock back at the next start); one write at a time.
   */
  private saveClock(real: number): void {
    const file = this.o.clockFile;
    if (!file) return;
    this.lastSavedReal = real;
    const ahead = this.clock.now() + CLOCK_SAVE_MARGIN * CLOCK_SAVE_EVERY_REAL_MS * this.o.timeFactor;
    this.lastSaved = this.lastSaved
      .then(() => writeClockFile(file, ahead))
      .catch((e: unknown) => this.o.log?.error({ err: e, file }, 'Simulated clock not saved'));
  }

  private async shutdownAll(): Promise<void> {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
    const file = this.o.clockFile;
    // At a clean stop the clock has stopped: its exact time, without the margin.
    if (file) this.lastSaved = this.lastSaved.then(() => writeClockFile(file, this.clock.now()));
    await Promise.all([...this.list.map((p) => p.close()), this.authServer?.close(), closeServer(this.control), this.lastSaved]);
    this.o.log?.info({ proxies: this.list.length }, 'Fleet simulator closed');
  }
}

/** Starts every proxy's diagnostic listener, the nodes and the control API. */
export async function startFleetSim(opts: FleetSimOptions): Promise<FleetSim> {
  const saved = opts.clockFile === undefined ? undefined : await readClockFile(opts.clockFile);
  // A saved clock later than startAt wins: the simulated time never runs back across restarts.
  const sim = new FleetSimulator(resolveOptions(saved === undefined ? opts : { ...opts, startAt: Math.max(saved, opts.startAt ?? 0) }, Date.now()));
  try {
    await sim.start();
  } catch (e) {
    await sim.close();
    throw e;
  }
  return sim;
}
