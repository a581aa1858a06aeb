// The Store: StoreOps plus schema migration, transactions and shutdown, for either dialect.
import { Kysely, Migrator, sql, type Dialect } from 'kysely';
import type pg from 'pg';
import { checkSqlCount, compileHotQueries, kyselyRunner, kyselyWriter, pgPreparedRunner, pgPreparedWriter } from './hot-queries.js';
import { migrationProvider } from './migrations/index.js';
import { rowToOperation, rowToWorkspace } from './codec.js';
import { KyselyOps, type WriteListener } from './ops.js';
import type { Database, SqlDialect } from './schema.js';
import type { ClusterSettings, OperationRecord, WorkspaceRecord } from '../core/types.js';
import type { OperationsTable, WorkspaceRow } from './schema.js';
import { WorkspaceCache } from './workspace-cache.js';
import { deepFreeze } from './deep-freeze.js';
import { NameIndex } from './name-index.js';
import { GroupCommitter } from './group-commit.js';
import type { StoreBackend, StoreOps, WorkspaceFilter, WorkspacePage } from './store.js';

export interface StoreLogger {
  info(obj: object, msg?: string): void;
}

export interface KyselyStoreOptions {
  dialect: SqlDialect;
  driver: Dialect;
  logger?: StoreLogger;
  /** The pool behind a PostgresDialect, used directly for the hot point lookups. */
  pgPool?: pg.Pool;
  /** Awaited after Kysely has closed the driver: whatever the driver still winds down in the background. */
  afterClose?: () => Promise<void>;
  /**
   * Runs a query at once when no transaction or query holds the connection, else answers undefined
   * (SQLite: its one connection). Given, the store keeps decoded workspaces (workspace-cache.ts).
   */
  readIfIdle?: (sql: string, parameters: readonly unknown[], firstColumn?: boolean) => unknown[] | undefined;
  /** How many decoded workspaces are kept (with readIfIdle); DEFAULT_WORKSPACE_CACHE_SIZE by default. */
  workspaceCacheSize?: number;
}

/** What a read that would have to wait for the held SQLite connection answers instead. */
const BUSY = Symbol('busy');

function isUnfiltered(filter: WorkspaceFilter): boolean {
  return filter.names === undefined && filter.cluster_type === undefined && !filter.status?.length && !filter.namespace?.length && !filter.search;
}

/**
 * Every workspace of a large installation: a record kept takes about 0.85 KB (the server's resident
 * memory at 100,000 workspaces, all kept against 10,000), so about 170 MB at the limit. A resync
 * reads every workspace; with fewer kept than exist, each of its reads goes to SQLite.
 */
export const DEFAULT_WORKSPACE_CACHE_SIZE = 200_000;

export class KyselyStore extends KyselyOps implements StoreBackend {
  private readonly logger: StoreLogger | undefined;
  private readonly afterClose: (() => Promise<void>) | undefined;
  /**
   * The cluster settings as last read outside a transaction: every reconcile reads them, and they
   * change only through putClusterSettings of this store (one server per database). Bumping the epoch
   * drops the cache, and a read that began before a write never fills it.
   */
  private settingsCache?: ClusterSettings;
  private settingsEpoch = 0;
  private readonly workspaces: WorkspaceCache | undefined;
  private readonly names: NameIndex | undefined;
  private readonly readIfIdle: KyselyStoreOptions['readIfIdle'];
  /** SQLite's transactions share commits (group-commit.ts); PostgreSQL's run on connections of their own. */
  private readonly groups: GroupCommitter | undefined;

  private constructor(db: Kysely<Database>, options: KyselyStoreOptions) {
    const runHot = options.pgPool !== undefined ? pgPreparedRunner(options.pgPool) : kyselyRunner(db);
    const writeHot = options.pgPool !== undefined ? pgPreparedWriter(options.pgPool) : kyselyWriter(db);
    const listener: WriteListener = {
      settings: () => this.dropSettings(),
      writingWorkspace: (name, membership) => {
        if (membership) this.names?.changeBegins();
        return this.workspaces?.writeBegins(name);
      },
      // Outside a transaction a write that has run is committed.
      wroteWorkspace: (name, membership, ticket, leaves) => {
        if (ticket !== undefined) this.workspaces?.writeEnds(name, ticket, leaves?.(ticket.base));
        if (membership) this.names?.changeEnds();
      },
    };
    super(db, options.dialect, compileHotQueries(db, options.dialect), runHot, writeHot, listener);
    this.logger = options.logger;
    this.afterClose = options.afterClose;
    this.readIfIdle = options.readIfIdle;
    this.workspaces = options.readIfIdle !== undefined ? new WorkspaceCache(options.workspaceCacheSize ?? DEFAULT_WORKSPACE_CACHE_SIZE) : undefined;
    this.names = options.readIfIdle !== undefined ? new NameIndex() : undefined;
    this.groups = options.dialect === 'sqlite' ? new GroupCommitter(db) : undefined;
  }

  /**
   * A page from the caches where it can: the count and the page's names are read at once (the
   * connection idle) or sliced from the kept names, the records of names not kept are read in the
   * same step, so the page is one snapshot. Busy, it reads everything as any store does.
   */
  override async listWorkspaces(filter: WorkspaceFilter): Promise<WorkspacePage> {
    const read = this.readIfIdle;
    if (this.workspaces === undefined || read === undefined || (filter.names !== undefined && filter.names.length === 0)) return super.listWorkspaces(filter);
    const unfiltered = isUnfiltered(filter);
    const allNames = unfiltered ? this.names?.get() : undefined;
    let names: readonly string[];
    let total: number;
    if (allNames !== undefined) {
      checkSqlCount('limit', filter.limit);
      checkSqlCount('offset', filter.offset);
      names = allNames.slice(filter.offset, filter.offset + filter.limit);
      total = allNames.length;
    } else {
      const { count, pageNames } = this.pageQueries(filter);
      const countQuery = count.compile();
      const counted = read(countQuery.sql, countQuery.parameters) as { n: number | bigint }[] | undefined;
      if (counted === undefined) return super.listWorkspaces(filter);
      const namesQuery = pageNames.compile();
      names = read(namesQuery.sql, namesQuery.parameters, true) as string[];
      total = Number(counted[0]?.n ?? 0);
      if (unfiltered && this.names?.shouldFill(total)) this.names.fill(read(this.hot.workspaceNames.compiled.sql, [], true) as string[]);
    }
    const workspaces: WorkspaceRecord[] = [];
    for (const name of names) {
      const record = this.readNow(name);
      // Sliced from the kept names, the page may meet a busy connection: it is then read as a whole.
      if (record === BUSY) return super.listWorkspaces(filter);
      if (record !== undefined) workspaces.push(record);
    }
    return { workspaces, total };
  }

  /**
   * The kept record, else the row read at once on the idle connection (and kept); undefined when there
   * is none, BUSY when the connection is held.
   */
  private readNow(name: string): WorkspaceRecord | undefined | typeof BUSY {
    const kept = this.workspaces?.get(name);
    if (kept !== undefined) return kept;
    const rows = this.readIfIdle?.(this.hot.getWorkspace.compiled.sql, [name]) as WorkspaceRow[] | undefined;
    if (rows === undefined) return BUSY;
    const row = rows[0];
    return row === undefined ? undefined : this.workspaces!.put(rowToWorkspace(row));
  }

  /** The shared, frozen record when it can be had without waiting for the connection; else a read of its own. */
  override async getWorkspace(name: string): Promise<WorkspaceRecord | undefined> {
    const record = this.readNow(name);
    // The connection busy, the read waits its turn, and what it finds is not kept (a write may land
    // between it and here).
    return record === BUSY ? super.getWorkspace(name) : record;
  }

  /**
   * With the connection idle, both are read in one synchronous step, where nothing can commit between
   * them; the workspace read is then kept, as getWorkspace's is (the controller's reads are most of
   * what fills the cache).
   */
  override async getWorkspaceAndOpenOperations(name: string): Promise<{ workspace: WorkspaceRecord | undefined; operations: OperationRecord[] }> {
    const rows = this.readIfIdle?.(this.hot.listOpenOperationsOf.compiled.sql, [name]) as OperationsTable[] | undefined;
    if (rows === undefined) return super.getWorkspaceAndOpenOperations(name);
    // The connection was idle for the first read, so it is for the second, in the same step.
    const workspace = this.readNow(name);
    if (workspace === BUSY) return super.getWorkspaceAndOpenOperations(name);
    return { workspace, operations: rows.map(rowToOperation) };
  }

  private dropSettings(): void {
    this.settingsEpoch++;
    this.settingsCache = undefined;
  }

  /** Shared and frozen, as the workspace records are: every reconcile reads them. */
  override async getClusterSettings(): Promise<ClusterSettings> {
    if (this.settingsCache === undefined) {
      const epoch = this.settingsEpoch;
      const read = deepFreeze(await super.getClusterSettings());
      if (epoch === this.settingsEpoch) this.settingsCache = read;
      else return read;
    }
    return this.settingsCache;
  }

  /** The row, its grants and its scoped tokens go together (see StoreOps.deleteWorkspace). */
  override async deleteWorkspace(name: string): Promise<void> {
    await this.transaction((tx) => tx.deleteWorkspace(name));
  }

  static create(options: KyselyStoreOptions): KyselyStore {
    return new KyselyStore(new Kysely<Database>({ dialect: options.driver }), options);
  }

  async migrate(): Promise<void> {
    const migrator = new Migrator({
      db: this.db,
      provider: migrationProvider(this.dialect),
      migrationTableSchema: await this.migrationSchema(),
    });
    const { error, results } = await migrator.migrateToLatest();
    for (const r of results ?? []) {
      if (r.status === 'Success') this.logger?.info({ migration: r.migrationName }, 'store migration applied');
    }
    if (error !== undefined) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
      throw new Error(`Store migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    }
  }

  /**
   * On PostgreSQL, the schema our tables are created in. Kysely's Migrator otherwise takes its
   * bookkeeping tables in any schema of the database for its own, and then fails to find them.
   */
  private async migrationSchema(): Promise<string | undefined> {
    if (this.dialect !== 'postgres') return undefined;
    const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(this.db);
    const schema = rows[0]?.schema;
    if (!schema) {
      throw new Error('PostgreSQL has no current schema: no schema on the search_path exists.');
    }
    return schema;
  }

  async transaction<T>(fn: (tx: StoreOps) => Promise<T>): Promise<T> {
    // On SQLite the one connection is held for the whole of fn: calling the store itself (instead of
    // tx) inside fn would wait forever.
    let wroteSettings = false;
    const listener: WriteListener = {
      settings: () => {
        wroteSettings = true;
        this.dropSettings();
      },
      // Nothing can fill the cache before the commit: the transaction holds the connection till then.
      // What each write left is kept for the commit, and a later write of the same workspace here
      // starts from it; after two writes of one workspace in flight together here (they may run in
      // either order) it is not known.
      writingWorkspace: (name, membership) => {
        const ticket = this.written.writingWorkspace(name, membership);
        if (ticket === undefined) return undefined;
        if (inFlight.has(name)) overlapped.add(name);
        inFlight.set(name, (inFlight.get(name) ?? 0) + 1);
        return left.has(name) ? { ...ticket, base: left.get(name) } : ticket;
      },
      wroteWorkspace: (name, membership, ticket, leaves) => {
        this.written.wroteWorkspace(name, membership, ticket);
        if (ticket === undefined) return;
        const count = inFlight.get(name)! - 1;
        if (count > 0) inFlight.set(name, count);
        else inFlight.delete(name);
        left.set(name, overlapped.has(name) ? undefined : leaves?.(ticket.base));
      },
    };
    /** The rows this transaction's writes left, by workspace (undefined: not known). */
    const left = new Map<string, WorkspaceRecord | undefined>();
    const inFlight = new Map<string, number>();
    const overlapped = new Set<string>();
    const committed = () => {
      for (const [name, record] of left) this.workspaces?.transactionCommitted(name, record);
    };
    const inTransaction = (trx: Kysely<Database>) => fn(new KyselyOps(trx, this.dialect, this.hot, kyselyRunner(trx), kyselyWriter(trx), listener));
    try {
      if (this.groups !== undefined) return await this.groups.run(inTransaction, committed);
      return await this.db.transaction().execute(inTransaction);
    } finally {
      // Dropped again once committed (or rolled back): a read between the write and the commit saw the old value.
      if (wroteSettings) this.dropSettings();
    }
  }

  async close(): Promise<void> {
    await this.db.destroy();
    await this.afterClose?.();
  }
}
