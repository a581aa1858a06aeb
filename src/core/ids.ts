// Identifiers that sort by creation time (the layout of a version 7 UUID: 48 bits of Unix
// milliseconds, then random bits). Rows keyed by them are appended at the end of their index, where
// the pages are already in memory, rather than scattered over it as random UUIDs are.
import { randomUUID } from 'node:crypto';

export function timeOrderedId(now = Date.now()): string {
  const time = now.toString(16).padStart(12, '0');
  // randomUUID draws from a buffered pool; random bytes asked for one id at a time cost a system call each.
  const random = randomUUID();
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(15)}`;
}
