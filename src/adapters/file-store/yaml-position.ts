import { isAlias, isMap, isNode, isScalar, isSeq, Scalar, visit, type Document, type LineCounter, type YAMLError } from 'yaml';
import type { FieldPath } from '../../model/field-error.js';

/** 1-based, as editors and compilers print them. */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

function startOf(node: unknown): number | undefined {
  return isNode(node) && node.range ? node.range[0] : undefined;
}

/**
 * Where a field path points in a parsed document. A mapping entry resolves to its key, so the
 * position names the field even when its value is a block below or missing (and an unknown field
 * points at itself); a sequence entry resolves to the item; a path that does not exist stops at
 * the nearest ancestor that does (a missing required field points at the mapping that lacks it).
 */
export function positionOf(doc: Document.Parsed, path: FieldPath, lines: LineCounter): SourcePosition {
  let node: unknown = doc.contents;
  let offset = startOf(node) ?? doc.range[0];
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      offset = startOf(pair.key) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item: unknown = node.items[segment];
      if (item === undefined) break;
      offset = startOf(item) ?? offset;
      node = item;
    } else {
      break;
    }
  }
  const { line, col } = lines.linePos(offset);
  return { line, column: col };
}

/**
 * Where to point for a YAML error. The parser puts a missing closing quote where it gave up (often the
 * end of the document); the operator needs the line where the quote opens, which the scalar still holds.
 */
export function errorOffset(doc: Document.Parsed, error: YAMLError): number {
  const at = error.pos[0];
  if (error.code !== 'MISSING_CHAR' || !/closing ["']quote/.test(error.message)) return at;
  let opened = at;
  visit(doc, {
    Scalar(_key, node) {
      const quoted = node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE;
      if (!quoted || node.range?.[1] !== at) return undefined;
      opened = node.range[0];
      return visit.BREAK;
    },
  });
  return opened;
}
