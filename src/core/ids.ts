// Identifiers that sort by creation time (the layout of a version 7 UUID: 48 bits of Unix
// milliseconds, then random bits). Rows keyed by them are appended at the end of their index, where
// the pages are already in memory, rather than scattered over it as random UUIDs are.
import { randomBytes } from 'node:crypto';

export function timeOrderedId(now = Date.now()): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = 0x70 | (bytes[6]! & 0x0f);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
