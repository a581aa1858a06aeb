// Decoded workspace records kept by (uid, revision). Every write of a row raises its revision (and a
// deleted and re-created workspace has another uid), so an entry can match only the row's current
// content: a read asks the database for the page's uids and revisions, takes the records that match,
// and decodes only the rest. Correct with any number of replicas on one database, because the check is
// against what the database holds now, never against what this process last wrote.
import type { WorkspaceRecord, WorkspaceSpec } from '../core/types.js';
import { deepFreeze } from '../lib/deep-freeze.js';
import { rowToWorkspace } from './codec.js';
import type { WorkspaceRow } from './schema.js';

/** Enough for every workspace of a large installation; past it the oldest entries go first. */
const RECORD_CACHE_LIMIT = 20_000;
/**
 * Distinct specs shared between kept records. Workspaces made from one template have the same spec
 * text; one frozen object for them all halves the memory of 10,000 kept records (and their decoding).
 */
const SHARED_SPECS_LIMIT = 1_000;

export interface RowVersion {
  uid: string;
  revision: number;
}

export class RecordCache {
  private readonly entries = new Map<string, { revision: number; record: WorkspaceRecord }>();
  private readonly specs = new Map<string, WorkspaceSpec>();

  constructor(private readonly limit = RECORD_CACHE_LIMIT) {}

  /** The record kept for exactly this revision of the row, if any. */
  get(row: RowVersion): WorkspaceRecord | undefined {
    const entry = this.entries.get(row.uid);
    return entry !== undefined && entry.revision === Number(row.revision) ? entry.record : undefined;
  }

  /** Decodes the row and keeps the record (see put); a spec whose text another kept record has is shared. */
  decode(row: WorkspaceRow & RowVersion): WorkspaceRecord {
    let spec = this.specs.get(row.spec);
    if (spec === undefined) {
      spec = deepFreeze(JSON.parse(row.spec) as WorkspaceSpec);
      if (this.specs.size >= SHARED_SPECS_LIMIT) this.specs.clear();
      this.specs.set(row.spec, spec);
    }
    return this.put(row, rowToWorkspace(row, spec));
  }

  /** Keeps a record decoded from the row at this revision; it is frozen, as every reader shares it. */
  put(row: RowVersion, record: WorkspaceRecord): WorkspaceRecord {
    const revision = Number(row.revision);
    const entry = this.entries.get(row.uid);
    // A slower reader must not put back an older revision over a newer one.
    if (entry !== undefined && entry.revision > revision) return deepFreeze(record);
    this.entries.delete(row.uid);
    if (this.entries.size >= this.limit) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(row.uid, { revision, record: deepFreeze(record) });
    return record;
  }

  get size(): number {
    return this.entries.size;
  }
}
