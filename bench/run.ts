/** `npm run bench`: runs each benchmark in its own process (clean CPU and RSS figures) and prints its figures. */
import { spawnSync } from 'node:child_process';

const benches = ['bench/observe-cycle.ts', 'bench/parse-metrics.ts', 'bench/redirect-hotpath.ts', 'bench/redirect-load.ts', 'bench/failover-freshness.ts', 'bench/rollout-overhead.ts', 'bench/canary-analysis.ts', 'bench/peering-plan.ts'];
let failed = 0;
for (const file of benches) {
  console.log(`\n== ${file}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
