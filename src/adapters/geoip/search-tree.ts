/**
 * Where an address leads in one .mmdb file's search tree, read straight from the file's bytes:
 * the pointer to its record, which identifies the record (many networks share one), so answers
 * can be kept per record. maxmind's reader splits the address text into an array and reads each
 * node through Buffer methods; on the redirect's path, with a new client on every request, the
 * walk is most of a lookup.
 */
export interface SearchTree {
  /** The record pointer (> node count) for an IPv4 address as a 32-bit number; 0 when it has none. */
  leafOfV4(address: number): number;
  /** The same for an IPv6 address's eight 16-bit groups. */
  leafOfV6(hextets: ArrayLike<number>): number;
}

export function searchTree(db: Buffer, nodeCount: number, recordSize: number, ipVersion: 4 | 6): SearchTree {
  const nodeBytes = recordSize / 4;
  // A byte past the end reads as 0 (node 0): a damaged tree ends in "no record", never a throw.
  const byte = (at: number): number => db[at] ?? 0;
  const child =
    recordSize === 24
      ? (node: number, bit: number): number => {
          const at = node * 6 + bit * 3;
          return (byte(at) << 16) | (byte(at + 1) << 8) | byte(at + 2);
        }
      : recordSize === 28
        ? (node: number, bit: number): number => {
            const at = node * 7;
            // The middle byte holds the high nibble of each record.
            return bit === 0
              ? ((byte(at + 3) & 0xf0) << 20) | (byte(at) << 16) | (byte(at + 1) << 8) | byte(at + 2)
              : ((byte(at + 3) & 0x0f) << 24) | (byte(at + 4) << 16) | (byte(at + 5) << 8) | byte(at + 6);
          }
        : (node: number, bit: number): number => {
            const at = node * nodeBytes + bit * 4;
            return ((byte(at) << 24) >>> 0) + ((byte(at + 1) << 16) | (byte(at + 2) << 8) | byte(at + 3));
          };
  // IPv4 in an IPv6 tree sits under ::/96.
  let v4Start = 0;
  if (ipVersion === 6) for (let i = 0; i < 96 && v4Start < nodeCount; i++) v4Start = child(v4Start, 0);
  const leaf = (node: number): number => (node > nodeCount ? node : 0);
  return {
    leafOfV4(address) {
      let node = v4Start;
      for (let depth = 0; depth < 32 && node < nodeCount; depth++) node = child(node, (address >>> (31 - depth)) & 1);
      return leaf(node);
    },
    leafOfV6(hextets) {
      let node = 0;
      for (let depth = 0; depth < 128 && node < nodeCount; depth++) node = child(node, ((hextets[depth >> 4] ?? 0) >>> (15 - (depth & 15))) & 1);
      return leaf(node);
    },
  };
}
