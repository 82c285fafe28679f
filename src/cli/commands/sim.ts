import pino from 'pino';
import { simOptionsFromFleet, startFleetSim } from '../../sim/index.js';
import { parseFlags } from '../flags.js';
import type { CliIo } from '../io.js';
import { loadFleet } from '../load-fleet.js';

/** `meridian sim`: serves a fleet's diagnostic addresses on loopback until stopped. */
export async function runSim(args: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(args, {
    fleet: { type: 'string', default: 'examples/fleet' },
    control: { type: 'string', default: '127.0.0.1:7300' },
    'time-factor': { type: 'string', default: '60' },
    seed: { type: 'string', default: '1' },
  });
  const control = /^(.+):(\d{1,5})$/.exec(values.control);
  if (!control) throw new Error(`--control: "${values.control}" must be host:port`);
  const timeFactor = Number(values['time-factor']);
  if (!(timeFactor > 0)) throw new Error(`--time-factor: "${values['time-factor']}" must be a positive number`);
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) throw new Error(`--seed: "${values.seed}" must be a whole number`);

  const fleet = await loadFleet(values.fleet, io);
  if (!fleet) return 1;
  const sim = await startFleetSim(
    simOptionsFromFleet(fleet.spec, { timeFactor, seed, controlHost: control[1], controlPort: Number(control[2]), log: pino({ base: { app: 'meridian-sim' } }) }),
  );
  io.out(`Simulating ${sim.proxies.length} proxies of ProxyFleet ${fleet.metadata.name}; control API ${sim.controlUrl}`);
  for (const p of sim.proxies) io.out(`  ${p.name.padEnd(16)} ${p.region.padEnd(12)} ${p.diagnosticUrl}`);
  await io.untilStopped();
  await sim.close();
  return 0;
}
