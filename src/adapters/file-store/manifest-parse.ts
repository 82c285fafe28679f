import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import type { FieldError } from '../../model/field-error.js';
import { isKind, type AnyResource } from '../../model/kinds.js';
import { API_GROUP, DEFAULT_NAMESPACE, keyOf, type ResourceKey } from '../../model/resource.js';
import type { ManifestProblem } from '../../model/store.js';
import { validateManifest } from '../../model/validate.js';
import { errorOffset, positionOf } from './yaml-position.js';

/** Where a document sits: `source` is the path to print, `file` the path relative to the manifest directory. */
export interface DocumentOrigin {
  readonly source: string;
  readonly file: string;
  /** Index of the document in its file (`---` separated, counting empty ones). */
  readonly document: number;
}

export interface AcceptedDocument extends DocumentOrigin {
  readonly key: ResourceKey;
  /** As written, without `status` (the store owns status). */
  readonly resource: AnyResource;
  /** Position of `metadata.name`. */
  readonly line: number;
  readonly column: number;
}

export interface RejectedDocument extends DocumentOrigin {
  /**
   * The object it meant to define, when it parsed far enough to tell. Only a guess for a document with
   * YAML errors (an unclosed quote makes the rest of the file its name): its file's `yamlErrors` says so.
   */
  readonly key?: ResourceKey;
  /** Line of `metadata.name` (or of the nearest field there is, or the document's start), for a document without YAML errors. */
  readonly line?: number;
}

/** A document for another API group (a Deployment, a CRD) living in the same repository. */
export interface IgnoredDocument extends DocumentOrigin {
  readonly line: number;
  readonly apiVersion: string;
  readonly kind: string;
}

export interface ParsedManifestFile {
  readonly accepted: readonly AcceptedDocument[];
  readonly rejected: readonly RejectedDocument[];
  readonly ignored: readonly IgnoredDocument[];
  readonly problems: readonly ManifestProblem[];
  /** Some document has YAML errors, so where the documents begin and end (a swallowed `---`) is unsure. */
  readonly yamlErrors: boolean;
}

const MAX_ALIASES = 100;

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** The key an invalid document was meant to have, so its object keeps its last valid version. */
export function keyHint(value: unknown): ResourceKey | undefined {
  const doc = asRecord(value);
  const meta = asRecord(doc?.['metadata']);
  const kind = doc?.['kind'];
  const name = meta?.['name'];
  const namespace = meta?.['namespace'];
  if (!isKind(kind) || typeof name !== 'string' || name === '') return undefined;
  return { kind, namespace: typeof namespace === 'string' && namespace ? namespace : DEFAULT_NAMESPACE, name };
}

function foreignType(value: unknown): { apiVersion: string; kind: string } | undefined {
  const doc = asRecord(value);
  const apiVersion = doc?.['apiVersion'];
  const kind = doc?.['kind'];
  if (typeof apiVersion !== 'string' || apiVersion.startsWith(`${API_GROUP}/`) || isKind(kind)) return undefined;
  return { apiVersion, kind: typeof kind === 'string' ? kind : '' };
}

function safeToJs(doc: Document): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch {
    return undefined;
  }
}

function withoutStatus(r: AnyResource): AnyResource {
  const { status: _, ...rest } = r;
  return rest;
}

/**
 * Parses one manifest file (any number of `---` separated documents) and validates each document.
 * Pure: the text comes in, positions and problems come out.
 */
export function parseManifestText(text: string, source: string, file: string = source): ParsedManifestFile {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false });
  const accepted: AcceptedDocument[] = [];
  const rejected: RejectedDocument[] = [];
  const ignored: IgnoredDocument[] = [];
  const problems: ManifestProblem[] = [];
  const problem = (offset: number, error: FieldError): void => {
    const { line, col } = lines.linePos(offset);
    problems.push({ source, line, column: col, error });
  };

  docs.forEach((doc, document) => {
    const origin: DocumentOrigin = { source, file, document };
    const start = doc.contents?.range?.[0] ?? doc.range[0];
    if (doc.errors.length) {
      for (const e of doc.errors) problem(errorOffset(doc, e), { path: [], message: e.message });
      rejected.push({ ...origin, key: keyHint(safeToJs(doc)) });
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIASES });
    } catch (e) {
      problem(start, { path: [], message: e instanceof Error ? e.message : String(e) });
      rejected.push({ ...origin, line: lines.linePos(start).line });
      return;
    }
    // A document of only comments, or the empty one after a trailing `---`.
    if (value === null || value === undefined) return;
    const foreign = foreignType(value);
    if (foreign) {
      ignored.push({ ...origin, ...foreign, line: lines.linePos(start).line });
      return;
    }
    const result = validateManifest(value);
    if (!result.ok) {
      for (const error of result.error) {
        const { line, column } = positionOf(doc, error.path, lines);
        problems.push({ source, line, column, error });
      }
      rejected.push({ ...origin, key: keyHint(value), line: positionOf(doc, ['metadata', 'name'], lines).line });
      return;
    }
    const { line, column } = positionOf(doc, ['metadata', 'name'], lines);
    accepted.push({ ...origin, key: keyOf(result.value), resource: withoutStatus(result.value), line, column });
  });
  return { accepted, rejected, ignored, problems, yamlErrors: docs.some((d) => d.errors.length > 0) };
}
