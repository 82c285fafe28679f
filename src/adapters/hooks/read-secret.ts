import { readFile } from 'node:fs/promises';
import { err, ok, type Result } from '../../model/result.js';

/** Reads a signing key from a file; the error names the file. */
export type ReadSecret = (path: string) => Promise<Result<string, string>>;

/** Read at every use, so a rotated key takes effect without a restart. Trailing newlines (as `echo` writes) are not part of the key. */
export const readSecret: ReadSecret = async (path) => {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable (permission denied)' : e instanceof Error ? e.message : String(e);
    return err(`secret file ${path} ${why}`);
  }
  const key = text.replace(/(\r?\n)+$/, '');
  return key === '' ? err(`secret file ${path} is empty`) : ok(key);
};
