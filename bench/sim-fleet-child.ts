/**
 * Serves N simulated proxies in its own process, so the observer's CPU and memory are measured alone.
 * Prints the proxies as one JSON line (an array); with `--with-control`, an object
 * `{ controlUrl, proxies }` with the simulator's control API address as well.
 */
import { startFleetSim } from '../src/sim/index.js';

const count = Number(process.argv[2] ?? 2000);
const regions = ['tokyo', 'sydney', 'london', 'chicago', 'new-york', 'sao-paulo'];
const sim = await startFleetSim({
  proxies: Array.from({ length: count }, (_, i) => ({ name: `p-${i}`, region: regions[i % regions.length] ?? 'tokyo', version: '17.4.2', port: 0 })),
  tickMs: 1000,
  timeFactor: 60,
  controlPort: 0,
});
const proxies = sim.proxies.map((p) => ({ name: p.name, region: p.region, diagnosticUrl: p.diagnosticUrl }));
process.stdout.write(`${JSON.stringify(process.argv.includes('--with-control') ? { controlUrl: sim.controlUrl, proxies } : proxies)}\n`);
process.stdin.resume();
process.stdin.on('end', () => void sim.close().then(() => process.exit(0)));
