// Decoded workspace records of a SQLite store, by name. Each request and each reconcile reads the
// workspace it acts on (an action reads it three times: the request, the reconcile, the answer), and
// decoding the row cost more than finding it.
//
// An entry is always the committed row. It is filled in the same synchronous step as a read that ran
// while nothing held the one connection (so no transaction was open), or with the row a write is known
// to have left once that write is committed (see writeBegins). From the moment a write of a workspace
// is issued until it has run, the workspace is neither answered from the cache nor put in it: the
// statement runs a few microtasks after the call, and a read in between may find the row before or
// after it. SQLite only: its file belongs to one server process, while PostgreSQL may be written by
// others.
import type { WorkspaceRecord } from '../core/types.js';
import { deepFreeze } from './deep-freeze.js';

interface Entry {
  record: WorkspaceRecord;
  /** Read since the eviction sweep last passed it. */
  used: boolean;
}

/** What a write begun is told: its place among the writes, and the committed record it changes. */
export interface WriteTicket {
  readonly seq: number;
  /** No other write of the workspace was in flight when it was issued. */
  readonly alone: boolean;
  /** The kept record, when alone; else undefined. */
  readonly base: WorkspaceRecord | undefined;
}

interface Writing {
  /** Writes issued and not yet run. */
  count: number;
  /** The seq of the last one issued. */
  last: number;
}

/**
 * Bounded by second chance rather than strict recency: a read only marks its entry, where moving it to
 * the back of the Map cost two more hash operations per record (a list page reads a hundred). Past the
 * limit, the sweep from the oldest entry moves marked entries to the back, unmarked, and drops the
 * first one it finds unmarked.
 */
export class WorkspaceCache {
  private readonly records = new Map<string, Entry>();
  /** Workspaces with writes issued and not yet run. */
  private readonly writing = new Map<string, Writing>();
  private seq = 0;

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

  /**
   * A write of the workspace is being issued. The record it starts from is handed back so the caller
   * can work out the row the write leaves: a write that knows it (an insert, a replace, a change of
   * one column) need not be followed by a read and a decode of the row.
   */
  writeBegins(name: string): WriteTicket {
    const seq = ++this.seq;
    const writing = this.writing.get(name);
    let base: WorkspaceRecord | undefined;
    if (writing === undefined) {
      base = this.records.get(name)?.record;
      this.writing.set(name, { count: 1, last: seq });
    } else {
      writing.count++;
      writing.last = seq;
    }
    this.records.delete(name);
    return { seq, alone: writing === undefined, base };
  }

  /**
   * That write has run (or failed). `committed` is the row it left when that is known and already
   * committed (a write outside a transaction): kept if no other write of the workspace was in flight
   * at any moment of this one's (writes issued together may run in either order). Otherwise the
   * next read fills the entry afresh.
   */
  writeEnds(name: string, ticket: WriteTicket, committed?: WorkspaceRecord): void {
    const writing = this.writing.get(name);
    this.records.delete(name);
    if (writing === undefined) return;
    if (--writing.count > 0) return;
    this.writing.delete(name);
    if (committed !== undefined && ticket.alone && writing.last === ticket.seq) this.put(committed);
  }

  /**
   * A transaction that wrote the workspace has committed, leaving `committed` (undefined: not
   * known). Called while the transaction still holds the connection, so no other statement has run
   * since the commit; a write of the workspace issued meanwhile has not run yet and keeps it out.
   */
  transactionCommitted(name: string, committed: WorkspaceRecord | undefined): void {
    this.records.delete(name);
    if (committed !== undefined) this.put(committed);
  }

  get size(): number {
    return this.records.size;
  }
}
