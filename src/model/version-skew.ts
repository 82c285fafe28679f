import { err, ok, type Result } from './result.js';

/** A Teleport version as teleport_build_info spells it: 17.4.2, v17.4.2, 17.4.9-debug.1. */
interface Version {
  readonly text: string;
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** Pre-release identifiers; an empty list is a release, which outranks its pre-releases. */
  readonly pre: readonly string[];
}

const VERSION = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

function parse(text: string): Version | undefined {
  const m = VERSION.exec(text.trim());
  if (!m) return undefined;
  return { text, major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), pre: m[4] ? m[4].split('.') : [] };
}

/** Semantic-version order (numeric identifiers compare as numbers, and below alphanumeric ones). */
function compare(a: Version, b: Version): number {
  const core = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (core !== 0) return core;
  if (!a.pre.length || !b.pre.length) return b.pre.length - a.pre.length;
  for (let i = 0; i < Math.max(a.pre.length, b.pre.length); i++) {
    const x = a.pre[i];
    const y = b.pre[i];
    if (x === undefined || y === undefined) return x === undefined ? -1 : 1;
    if (x === y) continue;
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny) return Number(x) - Number(y);
    if (nx !== ny) return nx ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

/** Orders two Teleport versions; undefined when either is not one. */
export function compareVersions(a: string, b: string): number | undefined {
  const x = parse(a);
  const y = parse(b);
  return x && y ? compare(x, y) : undefined;
}

/**
 * Teleport's compatibility rule for moving proxies to `target` (goteleport.com/docs/upgrading/overview,
 * "Component compatibility"): a proxy may run at most one major version behind the Auth Service
 * and never a newer major version than it, and majors are
 * upgraded one at a time (Auth first), so a target that skips a major from any proxy's current
 * version is refused. An unknown Auth version refuses too: the rule cannot be checked.
 * Pure: `auth` and `proxies` are the observed versions (teleport_build_info).
 */
export function checkVersionSkew(target: string, auth: string | undefined, proxies: readonly string[]): Result<void, string> {
  const t = parse(target);
  if (!t) return err(`target version "${target}" is not a Teleport version (major.minor.patch)`);
  if (auth === undefined) return err(`the Auth Service version is unknown (not observed yet, or its diagnostic address unreadable): cannot check ${target} against it`);
  const a = parse(auth);
  if (!a) return err(`the Auth Service reports "${auth}", not a Teleport version`);
  // Teleport's compatibility is by major version: a 17.4.9 proxy works with a 17.4.8 Auth Service.
  if (t.major > a.major) return err(`${target} is a newer major version than the Auth Service (${auth}): upgrade the Auth Service first; a proxy never runs a newer major version than Auth`);
  if (t.major < a.major - 1) return err(`${target} is more than one major version behind the Auth Service (${auth}); Teleport supports a proxy at most one major behind`);
  for (const text of proxies) {
    const p = parse(text);
    if (!p) return err(`a proxy reports "${text}", not a Teleport version`);
    if (t.major > p.major + 1) return err(`${target} skips major version ${p.major + 1} from a proxy at ${text}: upgrade one major version at a time`);
  }
  return ok(undefined);
}
