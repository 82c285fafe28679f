/** Fast, deterministic, non-cryptographic hashing for sticky proxy choice. */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** 32-bit FNV-1a over UTF-16 code units (no encoding step, so no allocation). */
export function fnv1a32(s: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

/** murmur3's finaliser: FNV alone leaves similar keys (IPs one octet apart) with similar high bits. */
function fmix32(x: number): number {
  let h = x;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Rendezvous (highest-random-weight) score of one client for one member. The member with
 * the highest score wins; removing a member only moves the clients that had picked it.
 */
export function rendezvousWeight(clientHash: number, memberHash: number): number {
  return fmix32((clientHash ^ Math.imul(memberHash, 0x9e3779b1)) >>> 0);
}
