/**
 * Every setting of the controller, once: its flag, its environment variable, its default and its
 * help line. config.ts reads and checks the values; `meridian start|demo` take the flags and print
 * `--help` from this table.
 */

/** The commands that run a controller. */
export type ControllerCommand = 'start' | 'demo';

export interface Setting {
  /** The flag, without its dashes. */
  readonly flag: string;
  readonly variable: string;
  /** What the value is, in help: DIR, HOST:PORT, D (a duration)... */
  readonly arg: string;
  /** '' is "not set"; `unset` then says what that means. */
  readonly default: string;
  readonly unset?: string;
  readonly help: string;
  readonly commands: readonly ControllerCommand[];
}

const BOTH = ['start', 'demo'] as const;

export const SETTINGS = {
  manifestDir: { flag: 'manifests', variable: 'MERIDIAN_MANIFEST_DIR', arg: 'DIR', default: '', unset: 'none: start refuses', help: 'the desired state, a directory of YAML manifests; required by the file store', commands: ['start'] },
  stateDir: { flag: 'state', variable: 'MERIDIAN_STATE_DIR', arg: 'DIR', default: '.meridian/state', help: 'where status is kept', commands: BOTH },
  admin: { flag: 'admin', variable: 'MERIDIAN_ADMIN_ADDR', arg: 'HOST:PORT', default: '127.0.0.1:9181', help: 'the admin listener: API, /metrics, health probes', commands: BOTH },
  adminTokenFile: { flag: 'admin-token-file', variable: 'MERIDIAN_ADMIN_TOKEN_FILE', arg: 'FILE', default: '', unset: 'none: loopback only', help: 'tokens that may change state; needed beyond loopback', commands: BOTH },
  adminReadTokenFile: { flag: 'admin-read-token-file', variable: 'MERIDIAN_ADMIN_READ_TOKEN_FILE', arg: 'FILE', default: '', unset: 'none', help: 'tokens that may only read', commands: BOTH },
  public: { flag: 'public', variable: 'MERIDIAN_PUBLIC_ADDR', arg: 'HOST:PORT', default: '127.0.0.1:8080', help: 'the login listener: geo redirect, /nearest', commands: BOTH },
  trustedProxies: { flag: 'trusted-proxies', variable: 'MERIDIAN_TRUSTED_PROXIES', arg: 'CIDRS', default: '', unset: 'none', help: 'load balancers whose forwarding header is believed, comma-separated', commands: BOTH },
  trustedHeader: { flag: 'trusted-header', variable: 'MERIDIAN_TRUSTED_HEADER', arg: 'NAME', default: 'x-forwarded-for', help: 'the header they forward the client in: x-forwarded-for or forwarded', commands: BOTH },
  geoipDb: { flag: 'geoip-db', variable: 'MERIDIAN_GEOIP_DB', arg: 'FILES', default: '', unset: 'the bundled database', help: 'GeoIP database files, comma-separated', commands: BOTH },
  loginUrl: { flag: 'login-url', variable: 'MERIDIAN_LOGIN_URL', arg: 'URL', default: '', unset: 'the public listener', help: 'the login URL users are given, for invitation links', commands: BOTH },
  canaryKeyFile: { flag: 'canary-key-file', variable: 'MERIDIAN_CANARY_KEY_FILE', arg: 'FILE', default: '', unset: 'none: invitations are off', help: 'the key canary invitations are signed with', commands: BOTH },
  observeInterval: { flag: 'observe-interval', variable: 'MERIDIAN_OBSERVE_INTERVAL', arg: 'D', default: '2s', help: 'how often every proxy is scraped', commands: BOTH },
  observeTimeout: { flag: 'observe-timeout', variable: 'MERIDIAN_OBSERVE_TIMEOUT', arg: 'D', default: '1500ms', help: 'a scrape\'s timeout, shorter than the interval', commands: BOTH },
  observeConcurrency: { flag: 'observe-concurrency', variable: 'MERIDIAN_OBSERVE_CONCURRENCY', arg: 'N', default: '64', help: 'scrapes at once', commands: BOTH },
  maxBodyBytes: { flag: 'scrape-max-bytes', variable: 'MERIDIAN_SCRAPE_MAX_BYTES', arg: 'N', default: '4194304', help: 'the largest scrape answer read', commands: BOTH },
  oidcConnectorFile: { flag: 'oidc-connector', variable: 'MERIDIAN_OIDC_CONNECTOR_FILE', arg: 'FILE', default: '', unset: 'none', help: 'a Teleport OIDC connector file whose redirect_url list is kept in step with the fleet', commands: BOTH },
  simClock: { flag: 'sim-clock', variable: 'MERIDIAN_SIM_CLOCK', arg: 'URL', default: '', unset: 'the wall clock', help: 'the control API of a separate `meridian sim`, whose clock to run on', commands: ['start'] },
  simTimeFactor: { flag: 'time-factor', variable: 'MERIDIAN_SIM_TIME_FACTOR', arg: 'N', default: '60', help: 'simulated seconds per real second', commands: ['demo'] },
  simControl: { flag: 'sim-control', variable: 'MERIDIAN_SIM_CONTROL_ADDR', arg: 'HOST:PORT', default: '127.0.0.1:7300', help: 'the simulator\'s control API', commands: ['demo'] },
  simSeed: { flag: 'sim-seed', variable: 'MERIDIAN_SIM_SEED', arg: 'N', default: '1', help: 'the simulator\'s random seed', commands: ['demo'] },
  store: { flag: 'store', variable: 'MERIDIAN_STORE', arg: 'S', default: 'file', help: 'where desired state and status live: file (the manifests directory) or kubernetes (custom resources, a Lease elects the acting replica)', commands: ['start'] },
  kubeconfig: { flag: 'kubeconfig', variable: 'KUBECONFIG', arg: 'FILES', default: '', unset: "the pod's service account", help: "kubernetes store: kubeconfig files, ':'-separated as kubectl takes them", commands: ['start'] },
  namespace: { flag: 'namespace', variable: 'MERIDIAN_NAMESPACE', arg: 'NS', default: '', unset: 'all namespaces', help: 'kubernetes store: the namespace of the resources', commands: ['start'] },
  leaseName: { flag: 'lease-name', variable: 'MERIDIAN_LEASE_NAME', arg: 'NAME', default: 'meridian-leader', help: 'kubernetes store: the Lease that elects the acting replica', commands: ['start'] },
  leaseNamespace: { flag: 'lease-namespace', variable: 'MERIDIAN_LEASE_NAMESPACE', arg: 'NS', default: '', unset: "--namespace, else the pod's or the kubeconfig context's", help: "kubernetes store: the Lease's namespace", commands: ['start'] },
  leaseDuration: { flag: 'lease-duration', variable: 'MERIDIAN_LEASE_DURATION', arg: 'D', default: '15s', help: 'kubernetes store: how long a standby waits on a silent leader (whole seconds)', commands: ['start'] },
  renewDeadline: { flag: 'renew-deadline', variable: 'MERIDIAN_RENEW_DEADLINE', arg: 'D', default: '10s', help: 'kubernetes store: a leader that has not renewed within this stops acting', commands: ['start'] },
  retryPeriod: { flag: 'retry-period', variable: 'MERIDIAN_RETRY_PERIOD', arg: 'D', default: '2s', help: 'kubernetes store: how often the Lease is renewed or tried', commands: ['start'] },
  identity: { flag: 'identity', variable: 'MERIDIAN_IDENTITY', arg: 'ID', default: '', unset: 'POD_NAME, else the host name, with a random suffix', help: 'this replica in the Lease and in meridian_leader', commands: ['start'] },
  logLevel: { flag: 'log-level', variable: 'MERIDIAN_LOG_LEVEL', arg: 'L', default: 'info', help: 'fatal, error, warn, info, debug or trace', commands: BOTH },
  logFormat: { flag: 'log-format', variable: 'MERIDIAN_LOG_FORMAT', arg: 'F', default: 'auto', help: 'json (lines), pretty (for people), or auto: pretty when stdout is a terminal', commands: BOTH },
} as const satisfies Record<string, Setting>;

export type SettingKey = keyof typeof SETTINGS;

/** Settings as given (strings), by key; what flags, the environment and defaults each provide. */
export type ConfigInput = Partial<Record<SettingKey, string>>;

export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

/** The settings a command takes, in table order. */
export function settingsOf(command: ControllerCommand): SettingKey[] {
  return SETTING_KEYS.filter((k) => (SETTINGS[k].commands as readonly string[]).includes(command));
}

/** A setting's help line: flag, what it is, then its variable and default. */
export function helpLine(key: SettingKey): string {
  const s: Setting = SETTINGS[key];
  const flag = `  --${s.flag} ${s.arg}`;
  return `${flag.padEnd(34)} ${s.help} (${s.variable}; default ${s.default || s.unset || 'none'})`;
}
