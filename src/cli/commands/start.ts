import pino from 'pino';
import { buildConfig, configFromEnv, NO_MANIFEST_DIR, type ConfigInput, type MeridianConfig } from '../../config.js';
import { startMeridian, type MeridianHandle } from '../../main.js';
import { parseFlags } from '../flags.js';
import type { CliIo } from '../io.js';

/** `meridian start`: the controller on the manifests it is given; never a simulator (that is `meridian demo`). */
export async function runStart(args: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(args, {
    manifests: { type: 'string' },
    state: { type: 'string' },
    admin: { type: 'string' },
    'admin-token-file': { type: 'string' },
    'admin-read-token-file': { type: 'string' },
    public: { type: 'string' },
    'trusted-proxies': { type: 'string' },
    'geoip-db': { type: 'string' },
    'sim-clock': { type: 'string' },
    'observe-interval': { type: 'string' },
    'observe-timeout': { type: 'string' },
    'observe-concurrency': { type: 'string' },
    'log-level': { type: 'string' },
    'oidc-connector': { type: 'string' },
  });
  const flags: ConfigInput = {
    ...(values.manifests !== undefined && { manifestDir: values.manifests }),
    ...(values.state !== undefined && { stateDir: values.state }),
    ...(values.admin !== undefined && { admin: values.admin }),
    ...(values['admin-token-file'] !== undefined && { adminTokenFile: values['admin-token-file'] }),
    ...(values['admin-read-token-file'] !== undefined && { adminReadTokenFile: values['admin-read-token-file'] }),
    ...(values.public !== undefined && { public: values.public }),
    ...(values['trusted-proxies'] !== undefined && { trustedProxies: values['trusted-proxies'] }),
    ...(values['geoip-db'] !== undefined && { geoipDb: values['geoip-db'] }),
    ...(values['sim-clock'] !== undefined && { simClock: values['sim-clock'] }),
    ...(values['observe-interval'] !== undefined && { observeInterval: values['observe-interval'] }),
    ...(values['observe-timeout'] !== undefined && { observeTimeout: values['observe-timeout'] }),
    ...(values['observe-concurrency'] !== undefined && { observeConcurrency: values['observe-concurrency'] }),
    ...(values['log-level'] !== undefined && { logLevel: values['log-level'] }),
    ...(values['oidc-connector'] !== undefined && { oidcConnectorFile: values['oidc-connector'] }),
  };
  const config = buildConfig([
    { source: 'environment', values: configFromEnv() },
    { source: 'flag', values: flags },
  ]);
  if (!config.ok) {
    io.err(`meridian start: invalid configuration:\n  ${config.error.join('\n  ')}`);
    return 2;
  }
  if (config.value.manifestDir === undefined) {
    io.err(`meridian start: ${NO_MANIFEST_DIR}`);
    return 2;
  }
  return serve(config.value, io);
}

/**
 * Runs the controller until the user stops it, after printing where to look; the demo adds the
 * simulator and its own lines (`extra`, given the running controller).
 */
export async function serve(config: MeridianConfig, io: CliIo, options: { simulator?: boolean; extra?: (handle: MeridianHandle) => string[] } = {}): Promise<number> {
  const log = pino({ level: config.logLevel, base: { app: 'meridian' } });
  const handle = await startMeridian(config, log, { simulator: options.simulator ?? false });
  const server = handle.adminUrl.endsWith(':9181') ? '' : ` --server ${handle.adminUrl}`;
  io.out(
    [
      '',
      `Meridian is running in standalone mode on ${config.manifestDir ?? ''} (state in ${config.stateDir})`,
      `  Login URL   ${handle.loginUrl}        the geo redirect (try ${handle.loginUrl}/nearest)`,
      `  Admin API   ${handle.adminUrl}        /metrics  /healthz  /readyz  /api/v1/fleet`,
      ...(handle.simControlUrl ? [`  Simulator   ${handle.simControlUrl}        control API of the demo proxies (GET /proxies)`] : []),
      ...(config.sim.followClock ? [`  Clock       ${config.sim.followClock}/clock        the simulator's time, which the controller runs on`] : []),
      `  Status      npx meridian status --watch${server}`,
      `  Peering     npx meridian peering status${server}   (coverage, plan: the nodes a region cannot reach, the links)`,
      ...(options.extra?.(handle) ?? []),
      '',
    ].join('\n'),
  );
  await io.untilStopped();
  log.info('Stopping');
  await handle.close();
  return 0;
}
