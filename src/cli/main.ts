import { configFromEnv, DEMO_MANIFEST_DIR } from '../config.js';
import { withAdminCredentials } from './admin-client.js';
import { runCanary } from './commands/canary.js';
import { runCrds } from './commands/crds.js';
import { runDemo } from './commands/demo.js';
import { runExplainRedirect } from './commands/explain-redirect.js';
import { runOidc } from './commands/oidc.js';
import { runPeering } from './commands/peering.js';
import { runRollout } from './commands/rollout.js';
import { runSim } from './commands/sim.js';
import { runStart } from './commands/start.js';
import { runStatus } from './commands/status.js';
import { runValidate } from './commands/validate.js';
import { controllerHelp } from './controller-flags.js';
import { takeTokenFile, wantsHelp } from './flags.js';
import type { CliIo } from './io.js';
import { processIo } from './io.js';

type Command = (args: string[], io: CliIo) => Promise<number>;

interface CommandEntry {
  readonly run: Command;
  /** What `meridian NAME --help` prints. */
  readonly usage: string;
  /** Talks to a running controller's admin API: takes --token-file. */
  readonly admin: boolean;
}

const SERVER = '  --server URL         the controller\'s admin API (default http://127.0.0.1:9181)';
const TOKEN = '  --token-file FILE    bearer token for the admin API (default: MERIDIAN_ADMIN_TOKEN_FILE)';

/** The dispatch table: every subcommand, with its usage. */
export const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  start: {
    run: runStart,
    admin: false,
    usage: `Usage: meridian start --manifests DIR [flags]
Runs the controller on the fleet the manifests describe; it never starts a simulator (meridian demo does).
Every flag has an environment variable; a flag wins over its variable.
${controllerHelp('start')}`,
  },
  demo: {
    run: runDemo,
    admin: false,
    usage: `Usage: meridian demo [--manifests DIR] [flags]
Runs the controller on the bundled demo fleet (examples/fleet) with the fleet simulator, on its
compressed clock; canary invitations are signed with --canary-key-file, or with a key the
demo makes once in its state directory (canary.key), and the exact invite command is printed.
Every flag but --manifests has an environment variable; a flag wins over its variable.
${'  --manifests DIR'.padEnd(34)} the fleet to simulate (default ${DEMO_MANIFEST_DIR}; never MERIDIAN_MANIFEST_DIR)
${controllerHelp('demo')}`,
  },
  sim: {
    run: runSim,
    admin: false,
    usage: `Usage: meridian sim [--fleet FILE|DIR] [--control HOST:PORT] [--time-factor N] [--seed N] [--clock-file FILE]
Serves the fleet's proxies' (and Auth Service's) diagnostic addresses on loopback until stopped;
--clock-file keeps the simulated time across restarts.`,
  },
  status: {
    run: runStatus,
    admin: true,
    usage: `Usage: meridian status [--server URL] [--json] [--watch] [--interval DURATION]
       meridian status --manifests DIR [--json]
The fleet per region, and every manifest the controller refused (file, line, reason).
With --manifests: offline, from the files alone (nothing observed).
${SERVER}
${TOKEN}`,
  },
  'explain-redirect': {
    run: runExplainRedirect,
    admin: true,
    usage: `Usage: meridian explain-redirect IP [--region NAME] [--canary NAME] [--json] [--server URL]
Where the login URL sends that address, and why.
${SERVER}
${TOKEN}`,
  },
  validate: {
    run: runValidate,
    admin: false,
    usage: `Usage: meridian validate DIR|FILE
Checks manifests; names file, line and field of every problem; exits 1 if there is any.`,
  },
  oidc: {
    run: runOidc,
    admin: false,
    usage: `Usage: meridian oidc redirect-urls [--manifests DIR] [--sync CONNECTOR.yaml]
The OIDC connector's redirect_url list for the fleet; --sync writes it into a connector file.`,
  },
  rollout: {
    run: runRollout,
    admin: true,
    usage: `Usage: meridian rollout plan FILE [--manifests DIR] [--server URL] [--at ISO-TIME] [--json]
       meridian rollout start|pause|resume|abort NAME [-n NAMESPACE] [--server URL | --manifests DIR]
       meridian rollout status [NAME] [-n NAMESPACE] [--server URL] [--json] [--watch]
${SERVER}
${TOKEN}`,
  },
  canary: {
    run: runCanary,
    admin: true,
    usage: `Usage: meridian canary start|promote|rollback|status|report NAME [-n NAMESPACE] [--server URL] [--json]
       meridian canary invite NAME [--ttl 7d] [--key-file FILE] [--login-url URL]
${SERVER}
${TOKEN}`,
  },
  peering: {
    run: runPeering,
    admin: true,
    usage: `Usage: meridian peering status|coverage|plan [NAME] [-n NAMESPACE] [--server URL] [--json] [--limit N]
       meridian peering coverage|plan --manifests DIR --nodes FILE --proxies FILE [--json]
${SERVER}
${TOKEN}`,
  },
  crds: {
    run: runCrds,
    admin: false,
    usage: `Usage: meridian crds [--out DIR]...
Prints the CustomResourceDefinitions, or writes them into each --out DIR.`,
  },
};

const USAGE = `meridian — controller for a global fleet of Teleport proxies

Usage:
${Object.values(COMMANDS)
  .flatMap((c) => c.usage.split('\n').filter((l) => /^(Usage: | {7})meridian /.test(l)))
  .map((l) => `  ${l.replace(/^(Usage: | {7})/, '')}`)
  .join('\n')}

meridian COMMAND --help prints a command's flags.
`;

/** Entry point of the `meridian` command; returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    const topic = name === 'help' && rest[0] ? COMMANDS[rest[0]] : undefined;
    io.out(topic ? topic.usage : USAGE);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.err(`meridian: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  if (wantsHelp(rest)) {
    io.out(command.usage);
    return 0;
  }
  try {
    if (!command.admin) return await command.run(rest, io);
    const { tokenFile, rest: args } = takeTokenFile(rest);
    const fromEnv = configFromEnv().adminTokenFile;
    const credentials = tokenFile !== undefined ? { tokenFile, setting: '--token-file' } : { ...(fromEnv ? { tokenFile: fromEnv } : {}), setting: 'MERIDIAN_ADMIN_TOKEN_FILE' };
    return await withAdminCredentials(credentials, () => command.run(args, io));
  } catch (e) {
    io.err(`meridian ${name}: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}
