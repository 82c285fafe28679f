import { runCanary } from './commands/canary.js';
import { runCrds } from './commands/crds.js';
import { runExplainRedirect } from './commands/explain-redirect.js';
import { runOidc } from './commands/oidc.js';
import { runPeering } from './commands/peering.js';
import { runRollout } from './commands/rollout.js';
import { runSim } from './commands/sim.js';
import { runStart } from './commands/start.js';
import { runStatus } from './commands/status.js';
import { runValidate } from './commands/validate.js';
import type { CliIo } from './io.js';
import { processIo } from './io.js';

const USAGE = `meridian — controller for a global fleet of Teleport proxies

Usage:
  meridian start [--manifests DIR] [--state DIR] [--admin HOST:PORT] [--no-sim] [--time-factor N] [--log-level L]
  meridian sim --fleet FILE [--control HOST:PORT] [--time-factor N] [--seed N]
  meridian status [--server URL] [--json] [--watch] [--interval DURATION]
  meridian explain-redirect IP [--region NAME] [--canary NAME] [--json] [--server URL]
  meridian validate DIR
  meridian oidc redirect-urls [--manifests DIR] [--sync CONNECTOR.yaml]
  meridian rollout plan FILE [--manifests DIR] [--server URL] [--at ISO-TIME] [--json]
  meridian rollout start|pause|resume|abort NAME [-n NAMESPACE] [--server URL | --manifests DIR]
  meridian rollout status [NAME] [-n NAMESPACE] [--server URL] [--json] [--watch]
  meridian canary start|promote|rollback|status|report NAME [-n NAMESPACE] [--server URL] [--json]
  meridian canary invite NAME [--ttl 7d] [--key-file FILE] [--login-url URL]
  meridian peering status|coverage|plan [NAME] [-n NAMESPACE] [--server URL] [--json] [--limit N]
  meridian peering coverage|plan --manifests DIR --nodes FILE --proxies FILE [--json]
  meridian crds --out DIR
`;

type Command = (args: string[], io: CliIo) => Promise<number>;
const COMMANDS: Record<string, Command> = { start: runStart, sim: runSim, status: runStatus, validate: runValidate, crds: runCrds, oidc: runOidc, rollout: runRollout, canary: runCanary, peering: runPeering, 'explain-redirect': runExplainRedirect };

/** Entry point of the `meridian` command; returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    io.out(USAGE);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.err(`meridian: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  try {
    return await command(rest, io);
  } catch (e) {
    io.err(`meridian ${name}: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}
