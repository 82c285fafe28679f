import { excerpt } from './post-json.js';
import type { CommandOutcome } from './run-command.js';

/** `tctl: exited with code 1: "ERROR: access denied"`: the program, what happened, the start of stderr. */
export function describeCommandFailure(argv: readonly string[], r: CommandOutcome): string {
  const what = r.error ?? `exited with code ${r.code ?? 'unknown'}`;
  const output = r.stderr.trim() || r.stdout.trim();
  return `${argv[0] ?? 'command'}: ${what}${output ? `: ${excerpt(output)}` : ''}`;
}
