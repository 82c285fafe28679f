import { parseArgs, type ParseArgsConfig } from 'node:util';

/** parseArgs in strict mode, pointing at --help on a bad flag. */
export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (e) {
    throw new Error(`${e instanceof Error ? e.message : String(e)} (see meridian --help)`, { cause: e });
  }
}

/** Arguments before a `--` (after it everything is a value). */
function flagPart(args: readonly string[]): readonly string[] {
  const end = args.indexOf('--');
  return end < 0 ? args : args.slice(0, end);
}

/** `--help` or `-h` anywhere among a command's flags. */
export function wantsHelp(args: readonly string[]): boolean {
  return flagPart(args).some((a) => a === '--help' || a === '-h');
}

/**
 * Takes `--token-file FILE` (or `--token-file=FILE`) out of a command's arguments: it is for the
 * admin client every command shares, not for the command's own flags.
 */
export function takeTokenFile(args: readonly string[]): { tokenFile?: string; rest: string[] } {
  const rest: string[] = [];
  let tokenFile: string | undefined;
  const flags = flagPart(args).length;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (i < flags && a === '--token-file') {
      const value = args[i + 1];
      if (value === undefined || i + 1 >= flags) throw new Error('--token-file needs a FILE (see meridian --help)');
      tokenFile = value;
      i++;
    } else if (i < flags && a.startsWith('--token-file=')) tokenFile = a.slice('--token-file='.length);
    else rest.push(a);
  }
  return { ...(tokenFile !== undefined ? { tokenFile } : {}), rest };
}
