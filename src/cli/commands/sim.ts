import { stat } from 'node:fs/promises';
import { DEFAULTS, DEMO_MANIFEST_DIR } from '../../config.js';
import { createLogger } from '../../logging/create-logger.js';
import type { ProxyFleet } from '../../model/fleet.js';
import { simOptionsFromFleet, startFleetSim } from '../../sim/index.js';
import { parseFlags } from '../flags.js';
import type { CliIo } from '../io.js';
import { loadFleet } from '../load-fleet.js';
import { formatProblem, readManifestFile } from '../offline-context.js';

/** The first valid ProxyFleet of a manifest file, or of a directory of them; problems go to stderr. */
async function fleetFrom(path: string, io: CliIo): Promise<ProxyFleet | undefined> {
  const isDir = await stat(path).then((s) => s.isDirectory(), (e: unknown) => e);
  if (typeof isDir !== 'boolean') return void io.err(`--fleet: ${path}: ${isDir instanceof Error ? isDir.message : String(isDir)}`);
  if (isDir) return loadFleet(path, io);
  const parsed = await readManifestFile(path);
  for (const p of parsed.problems) io.err(formatProblem(p));
  const fleet = parsed.accepted.map((d) => d.resource).find((r): r is ProxyFleet => r.kind === 'ProxyFleet');
  if (!fleet) io.err(`no valid ProxyFleet in ${path}`);
  return fleet;
}

/**
 * `meridian sim`: serves a fleet's diagnostic addresses on loopback until stopped; `--fleet` is a
 * manifest file or a directory of them; `--clock-file` keeps the simulated time across runs.
 */
export async function runSim(args: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(args, {
    fleet: { type: 'string', default: DEMO_MANIFEST_DIR },
    control: { type: 'string', default: DEFAULTS.simControl },
    'time-factor': { type: 'string', default: DEFAULTS.simTimeFactor },
    seed: { type: 'string', default: DEFAULTS.simSeed },
    'clock-file': { type: 'string' },
  });
  const control = /^(.+):(\d{1,5})$/.exec(values.control);
  if (!control) throw new Error(`--control: "${values.control}" must be host:port`);
  const timeFactor = Number(values['time-factor']);
  if (!(timeFactor > 0)) throw new Error(`--time-factor: "${values['time-factor']}" must be a positive number`);
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) throw new Error(`--seed: "${values.seed}" must be a whole number`);

  const fleet = await fleetFrom(values.fleet, io);
  if (!fleet) return 1;
  const sim = await startFleetSim(
    simOptionsFromFleet(fleet.spec, {
      timeFactor,
      seed,
      controlHost: control[1],
      controlPort: Number(control[2]),
      ...(values['clock-file'] !== undefined && { clockFile: values['clock-file'] }),
      log: createLogger({ level: 'info', format: 'auto', app: 'meridian-sim' }),
    }),
  );
  io.out(`Simulating ${sim.proxies.length} proxies of ProxyFleet ${fleet.metadata.name}; control API ${sim.controlUrl}`);
  io.out(`  Simulated time ${new Date(sim.clock.now()).toISOString()}, ${timeFactor}x real time (GET ${sim.controlUrl}/clock; follow it with meridian start --manifests DIR --sim-clock ${sim.controlUrl})`);
  for (const p of sim.proxies) io.out(`  ${p.name.padEnd(16)} ${p.region.padEnd(12)} ${p.diagnosticUrl}`);
  if (sim.auth) io.out(`  ${'auth'.padEnd(16)} ${'(Auth)'.padEnd(12)} ${sim.auth.diagnosticUrl}`);
  await io.untilStopped();
  await sim.close();
  return 0;
}
