/**
 * `npm run bench`: runs each benchmark in its own process (clean CPU and RSS figures) and prints its figures.
 * `npm run bench -- --only redirect-load`: just the benchmarks whose file names contain that.
 * Other flags go to every benchmark (`--profile`: redirect-load.ts prints where Meridian's CPU goes).
 */
import { spawnSync } from 'node:child_process';

const benches = ['bench/observe-cycle.ts', 'bench/parse-metrics.ts', 'bench/redirect-hotpath.ts', 'bench/redirect-load.ts', 'bench/failover-freshness.ts', 'bench/rollout-overhead.ts', 'bench/canary-analysis.ts', 'bench/peering-plan.ts', 'bench/cold-start.ts', 'bench/dashboard.ts', 'bench/kubernetes.ts', 'bench/kubernetes-handover.ts'];
const args = process.argv.slice(2);
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? args.splice(onlyAt, 2)[1] : undefined;
let failed = 0;
for (const file of benches.filter((f) => only === undefined || f.includes(only))) {
  console.log(`\n== ${file}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', file, ...args], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
