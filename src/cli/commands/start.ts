import { buildConfig, configFromEnv, hostFactsFromEnv, NO_MANIFEST_DIR, type MeridianConfig } from '../../config.js';
import { createLogger } from '../../logging/create-logger.js';
import { startMeridian, type MeridianHandle } from '../../main.js';
import { configFromFlags, controllerFlagOptions } from '../controller-flags.js';
import { parseFlags } from '../flags.js';
import type { CliIo } from '../io.js';

/** `meridian start`: the controller on the manifests it is given; never a simulator (that is `meridian demo`). */
export async function runStart(args: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(args, controllerFlagOptions('start'));
  const flags = configFromFlags('start', values);
  const config = buildConfig([
    { source: 'environment', values: configFromEnv() },
    { source: 'flag', values: flags },
  ], hostFactsFromEnv());
  if (!config.ok) {
    io.err(`meridian start: invalid configuration:\n  ${config.error.join('\n  ')}`);
    return 2;
  }
  if (config.value.mode === 'standalone' && config.value.manifestDir === undefined) {
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
  const log = createLogger({ level: config.logLevel, format: config.logFormat, app: 'meridian' });
  const handle = await startMeridian(config, log, { simulator: options.simulator ?? false });
  const server = handle.adminUrl.endsWith(':9181') ? '' : ` --server ${handle.adminUrl}`;
  // Listening for Ctrl-C and SIGTERM before the banner: whoever stops it on seeing the banner gets a clean stop.
  const stopped = io.untilStopped();
  io.out(
    [
      '',
      config.mode === 'kubernetes'
        ? `Meridian is running in kubernetes mode as ${config.identity} (namespace ${config.kubernetes?.namespace ?? 'all'}, Lease ${config.kubernetes?.lease.name})`
        : `Meridian is running in standalone mode on ${config.manifestDir ?? ''} (state in ${config.stateDir})`,
      `  Login URL   ${handle.loginUrl}        the geo redirect (try ${handle.loginUrl}/nearest)`,
      `  Dashboard   ${handle.adminUrl}/        the fleet, rollouts, canaries and peering, live`,
      `  Admin API   ${handle.adminUrl}        /metrics  /healthz  /readyz  /api/v1/fleet`,
      ...(handle.simControlUrl ? [`  Simulator   ${handle.simControlUrl}        control API of the demo proxies (GET /proxies)`] : []),
      ...(config.sim.followClock ? [`  Clock       ${config.sim.followClock}/clock        the simulator's time, which the controller runs on`] : []),
      `  Status      npx meridian status --watch${server}`,
      `  Peering     npx meridian peering status${server}   (coverage, plan: the nodes a region cannot reach, the links)`,
      ...(options.extra?.(handle) ?? []),
      '',
    ].join('\n'),
  );
  await stopped;
  log.info('Stopping');
  await handle.close();
  return 0;
}
