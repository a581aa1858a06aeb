// Decoded workspace records of a SQLite store, by name. Each request and each reconcile reads the
// workspace it acts on (an action reads it three times: the request, the reconcile, the answer), and
// decoding the row cost more than finding it.
//
// An entry is always the committed row: it is filled only in the same synchronous step as a read that
// ran while nothing held the one connection (so no transaction was open); a write of a workspace
// forgets it, and from the moment the write is issued until it has run the workspace is neither
// answered from the cache nor put in it (the statement runs a few microtasks after the call, and a
// read in between may find the row before or after it). SQLite only: its file belongs to one server
// process, while PostgreSQL may be written by others.
import type { WorkspaceRecord } from '../core/types.js';

/** Records handed out are shared: frozen, so that a caller changing one fails loudly instead of corrupting it. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

interface Entry {
  record: WorkspaceRecord;
  /** Read since the eviction sweep last passed it. */
  used: boolean;
}

/**
 * Bounded by second chance rather than strict recency: a read only marks its entry, where moving it to
 * the back of the Map cost two more hash operations per record (a list page reads a hundred). Past the
 * limit, the sweep from the oldest entry moves marked entries to the back, unmarked, and drops the
 * first one it finds unmarked.
 */
export class WorkspaceCache {
  private readonly records = new Map<string, Entry>();
  /** Writes issued and not yet run, by workspace. */
  private readonly writing = new Map<string, number>();

  constructor(private readonly limit: number) {}

  get(name: string): WorkspaceRecord | undefined {
    if (this.writing.size > 0 && this.writing.has(name)) return undefined;
    const entry = this.records.get(name);
    if (entry === undefined) return undefined;
    entry.used = true;
    return entry.record;
  }

  /** Keeps the record (frozen) and returns it; not kept while a write of it is in flight. */
  put(record: WorkspaceRecord): WorkspaceRecord {
    deepFreeze(record);
    if (this.writing.has(record.name)) return record;
    const entry = this.records.get(record.name);
    if (entry !== undefined) {
      entry.record = record;
      entry.used = true;
      return record;
    }
    // Room is made first: swept after its insertion, an unread newcomer would be the first unmarked entry found.
    if (this.records.size >= this.limit) this.evictOne();
    this.records.set(record.name, { record, used: false });
    return record;
  }

  private evictOne(): void {
    for (const [name, entry] of this.records) {
      this.records.delete(name);
      if (!entry.used) return;
      entry.used = false;
      this.records.set(name, entry);
    }
  }

  /** A write of the workspace is being issued. */
  writeBegins(name: string): void {
    this.writing.set(name, (this.writing.get(name) ?? 0) + 1);
    this.records.delete(name);
  }

  /** That write has run (or failed); the next read fills the entry afresh. */
  writeEnds(name: string): void {
    const left = (this.writing.get(name) ?? 1) - 1;
    if (left > 0) this.writing.set(name, left);
    else this.writing.delete(name);
    this.records.delete(name);
  }

  get size(): number {
    return this.records.size;
  }
}
