import { basename } from 'node:path';
import { err, ok, type Result } from '../../model/result.js';

/**
 * What `tctl alerts create` accepts, checked before it runs so a notice that Teleport would refuse
 * fails with a clear error naming the argument. From Teleport's sources:
 * tool/tctl/common/alert_command.go (--severity is an enum of low, medium, high; --ttl a Go
 * duration; --labels key=value pairs, and only when no labels are given does tctl add
 * alert-on-login and alert-permit-all itself) and api/types/cluster_alert.go (label charsets,
 * no control characters in the message).
 */

/** Teleport's types.AlertOnLogin: shown to users at login. */
export const ALERT_ON_LOGIN = 'teleport.internal/alert-on-login';
/** Teleport's types.AlertPermitAll: shown to every user, not only those with cluster_alert read rights. */
export const ALERT_PERMIT_ALL = 'teleport.internal/alert-permit-all';

const LABEL_KEY = /^[a-z0-9.\-/]+$/;
const LABEL_VALUE = /^[a-z0-9.\-_/:|]+$/;
const SEVERITIES: ReadonlySet<string> = new Set(['low', 'medium', 'high']);
// Go's time.ParseDuration: an optional sign, then numbers with units (no days).
const GO_DURATION = /^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$|^[-+]?0$/;
// unicode.IsControl: C0, DEL and C1.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** The arguments after `tctl [global flags] alerts create` (or `alert create`) in argv; undefined for any other command. */
function alertCreateArgs(argv: readonly string[]): readonly string[] | undefined {
  const tool = argv.findIndex((a) => basename(a) === 'tctl');
  if (tool === -1) return undefined;
  for (let i = tool + 1; i + 1 < argv.length; i++) {
    if ((argv[i] === 'alerts' || argv[i] === 'alert') && argv[i + 1] === 'create') return argv.slice(i + 2);
  }
  return undefined;
}

/** kingpin's flag forms: `--name value` and `--name=value`; every occurrence, in order. */
function flagValues(args: readonly string[], name: string): { values: string[]; missingValue: boolean } {
  const values: string[] = [];
  let missingValue = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === `--${name}`) {
      const v = args[i + 1];
      if (v === undefined) missingValue = true;
      else values.push(v);
      i++;
    } else if (a.startsWith(`--${name}=`)) values.push(a.slice(name.length + 3));
  }
  return { values, missingValue };
}

const VALUE_FLAGS: ReadonlySet<string> = new Set(['--severity', '--ttl', '--labels']);

/** The message: the first argument that is neither a flag nor the value of one. */
function firstPositional(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (VALUE_FLAGS.has(a)) i++;
    else if (!a.startsWith('--')) return a;
  }
  return undefined;
}

function checkLabels(spec: string): string | undefined {
  for (const pair of spec.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) return `--labels: "${pair}" is not key=value`;
    const key = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    if (!LABEL_KEY.test(key)) return `--labels: key "${key}" is not allowed by Teleport (${LABEL_KEY.source})`;
    if (!LABEL_VALUE.test(value)) return `--labels: value "${value}" of ${key} is not allowed by Teleport (${LABEL_VALUE.source})`;
  }
  return undefined;
}

/**
 * Checks a filled argv that runs `tctl alerts create` against what Teleport accepts; any other
 * command passes unchecked (the operator's own script).
 */
export function checkAlertCreateArgv(argv: readonly string[]): Result<void, string> {
  const args = alertCreateArgs(argv);
  if (!args) return ok(undefined);
  const message = firstPositional(args);
  if (message !== undefined && message.length === 0) return err('the alert message is empty (Teleport requires one)');
  if (message !== undefined && CONTROL.test(message)) return err('the alert message holds a control character (a newline?), which Teleport refuses');
  for (const [flag, check] of [
    ['severity', (v: string) => (SEVERITIES.has(v) ? undefined : `--severity: "${v}" is not one of low, medium, high`)],
    ['ttl', (v: string) => (GO_DURATION.test(v) ? undefined : `--ttl: "${v}" is not a Go duration (such as 48h0m0s)`)],
    ['labels', checkLabels],
  ] as const) {
    const { values, missingValue } = flagValues(args, flag);
    if (missingValue) return err(`--${flag} has no value`);
    for (const v of values) {
      const problem = check(v);
      if (problem) return err(problem);
    }
  }
  return ok(undefined);
}
