import { readFile, stat } from 'node:fs/promises';
import { err, ok, type Result } from '../../model/result.js';
import { parseTokenFile, type NamedToken } from './token-file.js';

export interface TokenFileRead {
  readonly tokens: readonly NamedToken[];
  /** Set when every user of the machine can read the file. */
  readonly warning?: string;
}

/** Reads and parses a token file; the error names the file (and the line), never a token. */
export async function readTokenFile(file: string, bareName: string): Promise<Result<TokenFileRead, string>> {
  let text: string;
  let mode: number;
  try {
    mode = (await stat(file)).mode;
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable (permission denied)' : code === 'EISDIR' ? 'is a directory' : e instanceof Error ? e.message : String(e);
    return err(`token file ${file} ${why}`);
  }
  const parsed = parseTokenFile(text, file, bareName);
  if (!parsed.ok) return err(`token file ${parsed.error}`);
  // Windows has no such bits; elsewhere a token every local user can read protects nothing from them.
  const worldReadable = process.platform !== 'win32' && (mode & 0o004) !== 0;
  return ok({ tokens: parsed.value, ...(worldReadable ? { warning: `token file ${file} is readable by every user of this machine (mode ${(mode & 0o777).toString(8)}): chmod 600 ${file}` } : {}) });
}
