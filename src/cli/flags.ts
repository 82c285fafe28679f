import { parseArgs, type ParseArgsConfig } from 'node:util';

/** parseArgs in strict mode, pointing at --help on a bad flag. */
export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (e) {
    throw new Error(`${e instanceof Error ? e.message : String(e)} (see meridian --help)`, { cause: e });
  }
}
