import { createHash } from 'node:crypto';

/**
 * A name-based UUID (version 5 layout over SHA-1). Teleport identifies hosts by UUID;
 * deriving it from the name keeps ids stable across simulator runs.
 */
export function uuidFromName(namespace: string, name: string): string {
  const h = createHash('sha1').update(namespace).update('\u0000').update(name).digest();
  h.writeUInt8((h.readUInt8(6) & 0x0f) | 0x50, 6);
  h.writeUInt8((h.readUInt8(8) & 0x3f) | 0x80, 8);
  const hex = h.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export function proxyHostId(proxyName: string): string {
  return uuidFromName('teleport.proxy', proxyName);
}
