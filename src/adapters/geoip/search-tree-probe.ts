import type { Result } from '../../model/result.js';
import { err, ok } from '../../model/result.js';

export interface SearchTreeShape {
  readonly nodeCount: number;
  readonly recordSize: number;
  readonly ipVersion: 4 | 6;
  /** Bytes between the 16-byte separator and the metadata marker. */
  readonly dataSectionSize: number;
}

// A bound on work per probe: plenty for real trees, and it stops a garbled one that loops.
const MAX_NODE_VISITS = 100_000;

/**
 * Walks the search tree depth-first (from the low or the high end of the address
 * space) and returns up to `max` addresses that lead to a data record, so a
 * database can be test-read without knowing which networks it holds. Checks on the
 * way that every record it passes points inside the tree or the data section.
 */
export function findRecordAddresses(
  db: Buffer,
  shape: SearchTreeShape,
  max: number,
  from: 'low' | 'high',
): Result<string[], string> {
  const bitLength = shape.ipVersion === 4 ? 32 : 128;
  const nodeBytes = shape.recordSize / 4;
  if (shape.nodeCount * nodeBytes > db.length) return err(`search tree (${shape.nodeCount} nodes) is larger than the file`);
  const found: string[] = [];
  const stack: { node: number; depth: number; bytes: Uint8Array }[] = [{ node: 0, depth: 0, bytes: new Uint8Array(bitLength / 8) }];
  // Children are pushed in this order, so the last one is walked first.
  const bits = from === 'low' ? [1, 0] : [0, 1];
  let visits = 0;
  while (stack.length > 0 && found.length < max && visits < MAX_NODE_VISITS) {
    const entry = stack.pop();
    if (entry === undefined) break;
    visits++;
    if (entry.depth >= bitLength) return err(`search tree is deeper than ${bitLength} bits at node ${entry.node}`);
    for (const bit of bits) {
      const value = readRecord(db, entry.node * nodeBytes, shape.recordSize, bit);
      if (value === shape.nodeCount) continue; // no data for this network
      const bytes = entry.bytes.slice();
      if (bit === 1) bytes[entry.depth >> 3] = (bytes[entry.depth >> 3] ?? 0) | (0x80 >> (entry.depth & 7));
      if (value < shape.nodeCount) {
        stack.push({ node: value, depth: entry.depth + 1, bytes });
        continue;
      }
      const dataOffset = value - shape.nodeCount - 16;
      if (dataOffset < 0 || dataOffset >= shape.dataSectionSize) {
        return err(`search tree node ${entry.node} points at data offset ${dataOffset}, outside the ${shape.dataSectionSize}-byte data section`);
      }
      found.push(formatAddress(bytes));
    }
  }
  return ok(found);
}

function readRecord(db: Buffer, offset: number, recordSize: number, bit: number): number {
  switch (recordSize) {
    case 24:
      return db.readUIntBE(offset + bit * 3, 3);
    case 28: {
      // The middle byte holds the high nibble of each record.
      const middle = db[offset + 3] ?? 0;
      return bit === 0 ? ((middle & 0xf0) << 20) | db.readUIntBE(offset, 3) : ((middle & 0x0f) << 24) | db.readUIntBE(offset + 4, 3);
    }
    default:
      return db.readUInt32BE(offset + bit * 4);
  }
}

function formatAddress(bytes: Uint8Array): string {
  if (bytes.length === 4) return bytes.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return groups.join(':');
}
