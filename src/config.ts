import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { deepFreeze } from './model/deep-freeze.js';
import { parseDuration } from './model/duration.js';
import { err, ok, type Result } from './model/result.js';
import { isLoopbackHost, unprotectedAdminMessage } from './admin/auth/loopback.js';
import { parseTrustedProxies, type TrustedProxies } from './redirect/core/trusted-proxies.js';
import { SETTING_KEYS, SETTINGS, type ConfigInput, type SettingKey } from './config-schema.js';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from './logging/log-options.js';

const EMPTY_TRUST: TrustedProxies = { cidrs: [], header: 'x-forwarded-for', contains: () => false };

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** The kubernetes store's settings (`--store kubernetes`). */
export interface KubernetesSettings {
  /** `--kubeconfig` or KUBECONFIG; absent: the pod's service account. */
  readonly kubeconfig?: { readonly paths: readonly string[]; readonly from: string };
  /** KUBERNETES_SERVICE_HOST/_PORT, when this runs in a pod. */
  readonly inCluster?: { readonly host: string; readonly port: string };
  /** The resources' namespace; absent: all namespaces. */
  readonly namespace?: string;
  readonly lease: {
    readonly name: string;
    /** Absent: the resources' namespace, else the pod's or the context's (known once the credentials are read). */
    readonly namespace?: string;
    readonly durationMs: number;
    readonly renewDeadlineMs: number;
    readonly retryPeriodMs: number;
  };
}

/** What the config takes from the host rather than from settings: read by hostFactsFromEnv. */
export interface HostFacts {
  readonly hostname: string;
  /** POD_NAME, from the downward API. */
  readonly podName?: string;
  /** KUBERNETES_SERVICE_HOST/_PORT, set by the kubelet in every pod. */
  readonly kubernetesService?: { readonly host: string; readonly port: string };
}

export interface MeridianConfig {
  /** standalone: the file store, this instance always acts; kubernetes: custom resources, the Lease holder acts. */
  readonly mode: 'standalone' | 'kubernetes';
  /** This replica's name in the Lease and in meridian_leader. */
  readonly identity: string;
  /** Present in kubernetes mode only. */
  readonly kubernetes?: KubernetesSettings;
  /** Directory of YAML manifests: the desired state. Absent when not given: `start` refuses with the file store (see NO_MANIFEST_DIR). */
  readonly manifestDir?: string;
  /** Where status is kept, written atomically. */
  readonly stateDir: string;
  readonly admin: ListenAddress;
  /** Bearer tokens of the admin API (files of `name:token` lines); see src/admin/auth/token-file.ts. */
  readonly adminAuth: {
    /** Tokens that may change state (and read). Absent: the admin listener must be on loopback, and anyone there may act. */
    readonly tokenFile?: string;
    /** Tokens that may only read; when set, reads and /metrics need a token too (health probes never do). */
    readonly readTokenFile?: string;
  };
  /** The public login listener: the geo redirect and /nearest. */
  readonly public: ListenAddress;
  readonly redirect: {
    /** Proxies (load balancers) whose forwarding header is believed, as parsed CIDRs. */
    readonly trusted: TrustedProxies;
    /** GeoIP database files; empty means the bundled database. */
    readonly geoipPaths: readonly string[];
    /** The login URL users are given (the public listener as they reach it), for invitation links. */
    readonly loginUrl: string;
    /** File holding the key canary invitations are signed with; absent: invitations are off. */
    readonly canaryKeyFile?: string;
  };
  readonly observe: {
    readonly intervalMs: number;
    readonly timeoutMs: number;
    readonly concurrency: number;
    readonly maxBodyBytes: number;
  };
  /** The bundled fleet simulator, which only `meridian demo` starts; and the clock of a separate one. */
  readonly sim: {
    readonly timeFactor: number;
    readonly control: ListenAddress;
    readonly seed: number;
    /**
     * A separate simulator's control API (`meridian sim`) whose clock the controller runs on,
     * so a split demo plays rollouts on the simulated time; never with the bundled simulator.
     */
    readonly followClock?: string;
  };
  readonly logLevel: LogLevel;
  /** auto: pretty when stdout is a terminal, else JSON lines. */
  readonly logFormat: LogFormat;
  /** A Teleport OIDC connector file whose redirect_url list Meridian keeps in step with the fleet. */
  readonly oidcConnectorFile?: string;
}

export type { ConfigInput } from './config-schema.js';

export const DEFAULTS = Object.fromEntries(SETTING_KEYS.map((k) => [k, SETTINGS[k].default])) as Required<ConfigInput>;

/** The bundled demo fleet: what `meridian demo` runs and offline commands read by default. */
export const DEMO_MANIFEST_DIR = 'examples/fleet';

/** Why `meridian start` refuses to run without manifests. */
export const NO_MANIFEST_DIR = `no manifests directory: give --manifests DIR (or ${SETTINGS.manifestDir.variable}); to try Meridian on the bundled demo fleet and its simulator, run meridian demo`;

export const DEFAULT_ADMIN_URL = `http://${DEFAULTS.admin}`;

/** Reads MERIDIAN_* variables from the environment: the only place that does. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ConfigInput {
  const out: ConfigInput = {};
  for (const key of SETTING_KEYS) {
    const v = env[SETTINGS[key].variable];
    if (v !== undefined && v !== '') out[key] = v;
  }
  return out;
}

/** Where a value came from, as a user would look for it: the variable, the flag, or which other layer. */
function origin(key: SettingKey, source: string): string {
  if (source === 'environment') return SETTINGS[key].variable;
  return source === 'flag' ? `--${SETTINGS[key].flag}` : `${source} --${SETTINGS[key].flag}`;
}

/** The host's name, POD_NAME and the in-cluster API server's address. */
export function hostFactsFromEnv(env: NodeJS.ProcessEnv = process.env): HostFacts {
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'];
  return { hostname: hostname(), ...(env['POD_NAME'] ? { podName: env['POD_NAME'] } : {}), ...(host && port ? { kubernetesService: { host, port } } : {}) };
}

/**
 * Defaults, then the environment, then flags; every bad value is named with where it came from
 * (variable or flag). `host` gives the defaults that depend on where it runs.
 */
export function buildConfig(layers: readonly { source: string; values: ConfigInput }[], host: HostFacts = { hostname: 'meridian' }): Result<MeridianConfig, string[]> {
  const merged = new Map<SettingKey, { value: string; source: string }>();
  for (const k of Object.keys(DEFAULTS) as (SettingKey)[]) merged.set(k, { value: DEFAULTS[k], source: 'default' });
  for (const layer of layers)
    for (const [k, v] of Object.entries(layer.values) as [SettingKey, string][]) merged.set(k, { value: v, source: layer.source });

  const errors: string[] = [];
  const at = (k: SettingKey): { value: string; where: string } => {
    const e = merged.get(k) ?? { value: DEFAULTS[k], source: 'default' };
    return { value: e.value, where: origin(k, e.source) };
  };
  const str = (k: SettingKey): string => at(k).value;
  const duration = (k: SettingKey): number => {
    const { value, where } = at(k);
    const r = parseDuration(value);
    if (!r.ok) errors.push(`${where}: ${r.error}`);
    return r.ok ? r.value : 0;
  };
  const int = (k: SettingKey, min: number, max: number): number => {
    const { value, where } = at(k);
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) errors.push(`${where}: "${value}" must be a whole number from ${min} to ${max}`);
    return n;
  };
  const num = (k: SettingKey, min: number): number => {
    const { value, where } = at(k);
    const n = Number(value);
    if (!Number.isFinite(n) || n < min) errors.push(`${where}: "${value}" must be a number of at least ${min}`);
    return n;
  };
  const address = (k: SettingKey): ListenAddress => {
    const { value, where } = at(k);
    const m = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):(\d{1,5})$/.exec(value);
    const port = Number(m?.[2]);
    if (!m || port > 65535) {
      errors.push(`${where}: "${value}" must be host:port, e.g. 127.0.0.1:9181`);
      return { host: '127.0.0.1', port: 0 };
    }
    return { host: (m[1] ?? '').replace(/^\[|\]$/g, ''), port };
  };
  const list = (k: SettingKey): string[] =>
    str(k)
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
  const loginUrl = (): string => {
    const { value, where } = at('loginUrl');
    if (!value) {
      const pub = address('public');
      return `http://${pub.host.includes(':') ? `[${pub.host}]` : pub.host}:${pub.port}`;
    }
    if (!/^https?:\/\/[^/?#\s]+\/?$/.test(value)) errors.push(`${where}: "${value}" must be an http(s) origin such as https://login.example.com`);
    return value.replace(/\/$/, '');
  };
  const followClock = (): string | undefined => {
    const { value, where } = at('simClock');
    if (!value) return undefined;
    if (!/^https?:\/\/[^/?#\s]+\/?$/.test(value)) errors.push(`${where}: "${value}" must be the simulator's control API as an http origin, e.g. http://127.0.0.1:7300`);
    return value.replace(/\/$/, '');
  };
  const header = str('trustedHeader');
  if (header !== 'x-forwarded-for' && header !== 'forwarded') errors.push(`${at('trustedHeader').where}: "${header}" must be x-forwarded-for or forwarded`);
  const trusted = parseTrustedProxies(list('trustedProxies'), { header: header === 'forwarded' ? 'forwarded' : 'x-forwarded-for' });
  if (!trusted.ok) errors.push(`${at('trustedProxies').where}: ${trusted.error}`);
  const oneOf = <T extends string>(k: SettingKey, allowed: readonly T[]): T => {
    const { value, where } = at(k);
    if (!(allowed as readonly string[]).includes(value)) errors.push(`${where}: "${value}" must be one of ${allowed.join(', ')}`);
    return value as T;
  };

  const mode = oneOf('store', ['file', 'kubernetes'] as const) === 'kubernetes' ? 'kubernetes' : 'standalone';
  // A restarted process is a new identity: it never takes the Lease its earlier self held for its own.
  const identity = str('identity') || `${host.podName ?? host.hostname}-${randomUUID().slice(0, 8)}`;
  const kubernetes = (): KubernetesSettings => {
    const kc = at('kubeconfig');
    const paths = kc.value.split(':').filter(Boolean);
    const lease = { durationMs: duration('leaseDuration'), renewDeadlineMs: duration('renewDeadline'), retryPeriodMs: duration('retryPeriod') };
    if (lease.durationMs < 1000 || lease.durationMs % 1000 !== 0) errors.push(`${at('leaseDuration').where}: "${str('leaseDuration')}" must be whole seconds (the Lease counts in seconds)`);
    if (lease.renewDeadlineMs >= lease.durationMs) errors.push(`${at('renewDeadline').where}: the renew deadline must be shorter than the lease duration (${str('leaseDuration')})`);
    if (lease.retryPeriodMs <= 0 || lease.retryPeriodMs >= lease.renewDeadlineMs) errors.push(`${at('retryPeriod').where}: the retry period must be shorter than the renew deadline (${str('renewDeadline')})`);
    return {
      ...(paths.length ? { kubeconfig: { paths, from: kc.where } } : {}),
      ...(host.kubernetesService ? { inCluster: host.kubernetesService } : {}),
      ...(str('namespace') ? { namespace: str('namespace') } : {}),
      lease: { name: str('leaseName'), ...((str('leaseNamespace') || str('namespace')) ? { namespace: str('leaseNamespace') || str('namespace') } : {}), ...lease },
    };
  };

  const config: MeridianConfig = {
    mode,
    identity,
    ...(mode === 'kubernetes' ? { kubernetes: kubernetes() } : {}),
    ...(str('manifestDir') ? { manifestDir: str('manifestDir') } : {}),
    stateDir: str('stateDir'),
    admin: address('admin'),
    adminAuth: {
      ...(str('adminTokenFile') ? { tokenFile: str('adminTokenFile') } : {}),
      ...(str('adminReadTokenFile') ? { readTokenFile: str('adminReadTokenFile') } : {}),
    },
    public: address('public'),
    redirect: {
      trusted: trusted.ok ? trusted.value : EMPTY_TRUST,
      geoipPaths: list('geoipDb'),
      loginUrl: loginUrl(),
      ...(str('canaryKeyFile') ? { canaryKeyFile: str('canaryKeyFile') } : {}),
    },
    observe: {
      intervalMs: duration('observeInterval'),
      timeoutMs: duration('observeTimeout'),
      concurrency: int('observeConcurrency', 1, 10_000),
      maxBodyBytes: int('maxBodyBytes', 1024, 1 << 30),
    },
    sim: {
      timeFactor: num('simTimeFactor', 0.001),
      control: address('simControl'),
      seed: int('simSeed', 0, 2 ** 31),
      ...(str('simClock') ? { followClock: followClock() } : {}),
    },
    logLevel: oneOf('logLevel', LOG_LEVELS),
    logFormat: oneOf('logFormat', LOG_FORMATS),
    ...(str('oidcConnectorFile') ? { oidcConnectorFile: str('oidcConnectorFile') } : {}),
  };
  if (!config.adminAuth.tokenFile && !isLoopbackHost(config.admin.host))
    errors.push(`${at('admin').where}: "${str('admin')}" is not a loopback address; ${unprotectedAdminMessage}`);
  if (str('adminReadTokenFile') && !str('adminTokenFile'))
    errors.push(`${at('adminReadTokenFile').where}: a read token without an admin token (${SETTINGS.adminTokenFile.variable}) would leave every change open; set both`);
  if (config.observe.intervalMs > 0 && config.observe.timeoutMs >= config.observe.intervalMs)
    errors.push(`${at('observeTimeout').where}: the scrape timeout must be shorter than the observe interval (${str('observeInterval')})`);
  return errors.length ? err(errors) : ok(deepFreeze(config));
}
