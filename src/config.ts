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

export interface MeridianConfig {
  readonly mode: 'standalone';
  /** Directory of YAML manifests: the desired state. Absent when not given: `start` refuses (see NO_MANIFEST_DIR). */
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

/** Defaults, then the environment, then flags; every bad value is named with where it came from (variable or flag). */
export function buildConfig(layers: readonly { source: string; values: ConfigInput }[]): Result<MeridianConfig, string[]> {
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

  const config: MeridianConfig = {
    mode: 'standalone',
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
