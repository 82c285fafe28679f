import { readFile } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import { parseDocument } from 'yaml';
import { err, ok, type Result } from '../../model/result.js';
import { writeFileAtomic } from '../file-store/atomic-write.js';

export type ConnectorSyncOutcome = 'updated' | 'unchanged';

/**
 * Sets `spec.redirect_url` of a Teleport OIDC connector resource file (what `tctl create -f`
 * takes) to `urls`. Comments and every other field are kept; the file is rewritten atomically
 * and only when the list changed. Errors name the file and what is wrong.
 */
export async function syncOidcConnectorFile(file: string, urls: readonly string[]): Promise<Result<ConnectorSyncOutcome, string>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    return err(`${file}: cannot read the OIDC connector: ${e instanceof Error ? e.message : String(e)}`);
  }
  const doc = parseDocument(text);
  if (doc.errors.length) return err(`${file}: not valid YAML: ${doc.errors[0]?.message ?? 'parse error'}`);
  if (doc.get('kind') !== 'oidc') return err(`${file}: kind is ${JSON.stringify(doc.get('kind') ?? null)}, expected "oidc" (a Teleport OIDC connector)`);
  if (!doc.has('spec')) return err(`${file}: missing spec`);
  // Teleport accepts a single string or a list.
  const current = (doc.toJS() as { spec?: { redirect_url?: unknown } }).spec?.redirect_url;
  if (isDeepStrictEqual(typeof current === 'string' ? [current] : current, [...urls])) return ok('unchanged');
  doc.setIn(['spec', 'redirect_url'], doc.createNode([...urls]));
  await writeFileAtomic(file, doc.toString());
  return ok('updated');
}
