import type { Logger } from 'pino';
import type { Clock } from '../model/clock.js';
import type { BuildBehaviour } from './build-behaviour.js';
import { parseBuildBehaviour } from './control-input.js';

export interface SimProxyOptions {
  name: string;
  region: string;
  version: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 or absent = ephemeral. */
  port?: number;
  /** Default derived from the version (`v<version>-0-g<hash>`). */
  gitref?: string;
  /** `spec.public_addr` in the proxies inventory; default `<name>.example.com:443`. */
  publicAddr?: string;
}

/** The cluster's Auth Service: one instance whose diagnostic address the simulator serves. */
export interface SimAuthOptions {
  version: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 or absent = ephemeral. */
  port?: number;
  /** Default derived from the version, as a proxy's. */
  gitref?: string;
}

export interface FleetSimOptions {
  proxies: readonly SimProxyOptions[];
  /** Serve an Auth Service diagnostic address too (teleport_build_info, process_state, /readyz). */
  auth?: SimAuthOptions;
  /** Simulated nodes (agents) spread over the proxies' regions; default 5 per region. */
  nodes?: number;
  /** Tunnels each node keeps, default 1 (like Teleport's agent_connection_count). */
  agentConnectionCount?: number;
  /** Simulated ms per real ms, default 1 (60 = one sim minute per real second). */
  timeFactor?: number;
  /** Real ms between automatic ticks, default 1000; 0 = no timer, tests call advance(). */
  tickMs?: number;
  /** Deterministic PRNG seed, default 1. */
  seed?: number;
  /** Target mean concurrent sessions per proxy at steady state, default 40. */
  sessionsPerProxy?: number;
  /** Sim ms a (re)started proxy reports starting (readyz 400), default 20_000. */
  startupMs?: number;
  /** Epoch ms at which sim time starts; default the real time at start. */
  startAt?: number;
  /** File the simulated time is kept in across runs: resumed from at start (when later than startAt), saved atomically as it moves and at close. */
  clockFile?: string;
  /** Control API listener, default 127.0.0.1; port 0 = ephemeral. */
  controlHost?: string;
  controlPort?: number;
  /** Key for X-Meridian-Signature on the POST /hooks/* requests (upgrade, cluster-networking, peer-allow-list); absent = not checked. */
  hookSecret?: string;
  /** Faults by version (`PUT /builds/:version` changes them at run time); absent = every build behaves. */
  builds?: Readonly<Record<string, BuildBehaviour>>;
  log?: Logger;
}

export interface SimProxyInfo {
  name: string;
  region: string;
  hostId: string;
  diagnosticUrl: string;
}

export interface FleetSim {
  readonly controlUrl: string;
  readonly proxies: readonly SimProxyInfo[];
  /** The Auth Service's diagnostic address, when one is simulated. */
  readonly auth: { readonly diagnosticUrl: string } | undefined;
  /** Sim time (epoch ms), for controllers and tests that must agree with the simulator. */
  readonly clock: Clock;
  /** Deterministic stepping of sim time: sessions start and end, startups complete, drains finish. */
  advance(simMs: number): void;
  /** Closes every listener and clears timers. */
  close(): Promise<void>;
}

export interface ResolvedProxyOptions {
  readonly name: string;
  readonly region: string;
  readonly version: string;
  readonly gitref: string | undefined;
  readonly host: string;
  readonly port: number;
  readonly publicAddr: string;
}

export interface ResolvedAuthOptions {
  readonly version: string;
  readonly gitref: string | undefined;
  readonly host: string;
  readonly port: number;
}

export interface ResolvedFleetSimOptions {
  readonly proxies: readonly ResolvedProxyOptions[];
  readonly auth: ResolvedAuthOptions | undefined;
  readonly nodes: number | undefined;
  readonly agentConnectionCount: number;
  readonly timeFactor: number;
  readonly tickMs: number;
  readonly seed: number;
  readonly sessionsPerProxy: number;
  readonly startupMs: number;
  readonly startAt: number;
  readonly clockFile: string | undefined;
  readonly controlHost: string;
  readonly controlPort: number;
  readonly hookSecret: string | undefined;
  readonly builds: Readonly<Record<string, BuildBehaviour>>;
  readonly log: Logger | undefined;
}

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_NODES_PER_REGION = 5;

function check(cond: boolean, field: string, rule: string, value: unknown): void {
  if (!cond) throw new RangeError(`FleetSimOptions.${field} ${rule}, got ${JSON.stringify(value)}`);
}

function nonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v.trim() !== '';
}

function numberOr(v: number | undefined, fallback: number, field: string, rule: string, ok: (n: number) => boolean): number {
  const n = v ?? fallback;
  check(typeof n === 'number' && Number.isFinite(n) && ok(n), field, rule, v);
  return n;
}

function resolveBuilds(builds: FleetSimOptions['builds']): Readonly<Record<string, BuildBehaviour>> {
  if (builds === undefined) return {};
  check(typeof builds === 'object' && builds !== null && !Array.isArray(builds), 'builds', 'must be an object of versions', builds);
  const out: Record<string, BuildBehaviour> = {};
  for (const [version, b] of Object.entries(builds)) {
    const at = `builds[${JSON.stringify(version)}]`;
    check(nonEmptyString(version), at, 'must be keyed by a non-empty version', version);
    const r = parseBuildBehaviour(b);
    if (!r.ok) {
      if (r.error.field === 'body') check(false, at, 'must be an object', b);
      else throw new RangeError(`FleetSimOptions.${at}.${r.error.message}`);
    } else out[version] = r.value;
  }
  return out;
}

const isPort = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 65535;

function resolveAuth(a: SimAuthOptions, taken: ReadonlySet<string>): ResolvedAuthOptions {
  check(typeof a === 'object' && a !== null, 'auth', 'must be an object', a);
  check(nonEmptyString(a.version), 'auth.version', 'must be a non-empty string', a.version);
  check(a.gitref === undefined || nonEmptyString(a.gitref), 'auth.gitref', 'must be a non-empty string', a.gitref);
  const host = a.host ?? DEFAULT_HOST;
  check(nonEmptyString(host), 'auth.host', 'must be a non-empty string', a.host);
  const port = numberOr(a.port, 0, 'auth.port', 'must be a whole number from 0 to 65535', isPort);
  check(port === 0 || !taken.has(`${host}:${port}`), 'auth.port', `must not repeat a proxy's ${host}:${port}`, a.port);
  return { version: a.version, gitref: a.gitref, host, port };
}

/** Checks options and fills defaults; throws a RangeError naming the bad field. */
export function resolveOptions(opts: FleetSimOptions, now: number): ResolvedFleetSimOptions {
  check(Array.isArray(opts.proxies), 'proxies', 'must be an array', typeof opts.proxies);
  const names = new Set<string>();
  const addrs = new Set<string>();
  const proxies = opts.proxies.map((p, i): ResolvedProxyOptions => {
    const at = `proxies[${i}]`;
    check(nonEmptyString(p.name), `${at}.name`, 'must be a non-empty string', p.name);
    check(!names.has(p.name), `${at}.name`, 'must be unique', p.name);
    names.add(p.name);
    check(nonEmptyString(p.region), `${at}.region`, 'must be a non-empty string', p.region);
    check(nonEmptyString(p.version), `${at}.version`, 'must be a non-empty string', p.version);
    check(p.gitref === undefined || nonEmptyString(p.gitref), `${at}.gitref`, 'must be a non-empty string', p.gitref);
    const host = p.host ?? DEFAULT_HOST;
    check(nonEmptyString(host), `${at}.host`, 'must be a non-empty string', p.host);
    const port = numberOr(p.port, 0, `${at}.port`, 'must be a whole number from 0 to 65535', isPort);
    if (port !== 0) {
      check(!addrs.has(`${host}:${port}`), `${at}.port`, `must not repeat another proxy's ${host}:${port}`, p.port);
      addrs.add(`${host}:${port}`);
    }
    const publicAddr = p.publicAddr ?? `${p.name}.example.com:443`;
    check(nonEmptyString(publicAddr), `${at}.publicAddr`, 'must be a non-empty string', p.publicAddr);
    return { name: p.name, region: p.region, version: p.version, gitref: p.gitref, host, port, publicAddr };
  });
  const auth = opts.auth === undefined ? undefined : resolveAuth(opts.auth, addrs);
  check(opts.hookSecret === undefined || nonEmptyString(opts.hookSecret), 'hookSecret', 'must be a non-empty string', opts.hookSecret);
  const whole = (n: number): boolean => Number.isInteger(n) && n >= 0;
  return {
    proxies,
    auth,
    nodes: opts.nodes === undefined ? undefined : numberOr(opts.nodes, 0, 'nodes', 'must be a whole number >= 0', whole),
    agentConnectionCount: numberOr(opts.agentConnectionCount, 1, 'agentConnectionCount', 'must be a whole number >= 1', (n) => whole(n) && n >= 1),
    timeFactor: numberOr(opts.timeFactor, 1, 'timeFactor', 'must be a number > 0', (n) => n > 0),
    tickMs: numberOr(opts.tickMs, 1000, 'tickMs', 'must be a number >= 0', (n) => n >= 0),
    seed: numberOr(opts.seed, 1, 'seed', 'must be a whole number', Number.isInteger),
    sessionsPerProxy: numberOr(opts.sessionsPerProxy, 40, 'sessionsPerProxy', 'must be a number >= 0', (n) => n >= 0),
    startupMs: numberOr(opts.startupMs, 20_000, 'startupMs', 'must be a number >= 0', (n) => n >= 0),
    startAt: numberOr(opts.startAt, now, 'startAt', 'must be epoch milliseconds', (n) => n >= 0),
    clockFile: opts.clockFile,
    controlHost: opts.controlHost ?? DEFAULT_HOST,
    controlPort: numberOr(opts.controlPort, 0, 'controlPort', 'must be a whole number from 0 to 65535', isPort),
    hookSecret: opts.hookSecret,
    builds: resolveBuilds(opts.builds),
    log: opts.log,
  };
}
