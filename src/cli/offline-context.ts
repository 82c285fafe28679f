/**
 * What the CLI reaches without a controller: the manifest files and the few local files a command
 * reads or edits. The only CLI module that imports adapters; online, commands go through the admin
 * API (admin-client.ts) instead.
 */
import { readFile } from 'node:fs/promises';
import { formatProblem, loadManifestDir, locateFields, parseManifestText, patchManifestFile, type AcceptedDocument } from '../adapters/file-store/index.js';
import { readSecret } from '../adapters/hooks/index.js';
import { syncOidcConnectorFile } from '../adapters/teleport/oidc-connector-file.js';
import type { Result } from '../model/result.js';
import type { SpecPatch } from '../model/store.js';

export type { AcceptedDocument };

/** A manifest directory (or one file) as the controller would load it: objects in force, problems, skipped documents. */
export { loadManifestDir };

/** `file:line:column: field: message` of a manifest problem, as validate and the controller print it. */
export { formatProblem };

/** Where fields of a loaded document are in its file, for problems found after loading. */
export { locateFields };

/** A signing key from a file (trailing newlines dropped); the error names the file. */
export { readSecret };

/** Sets a Teleport OIDC connector file's redirect_url list; rewrites it only when it changed. */
export { syncOidcConnectorFile };

/** The documents of one manifest file, read from disk. */
export async function readManifestFile(path: string): Promise<ReturnType<typeof parseManifestText>> {
  return parseManifestText(await readFile(path, 'utf8'), path);
}

/** Sets top-level spec fields of a loaded document in its file, keeping comments and layout. */
export function patchManifestSpec(doc: AcceptedDocument, patch: SpecPatch): Promise<Result<void, string>> {
  return patchManifestFile(doc.source, doc.document, patch, doc.key);
}
