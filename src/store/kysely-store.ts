// The Store: StoreOps plus schema migration, transactions and shutdown, for either dialect.
import { Kysely, Migrator, sql, type Dialect } from 'kysely';
import { KyselyOps } from './kysely-ops.js';
import { migrationProvider } from './migrations/index.js';
import { RecordCache } from './record-cache.js';
import type { Database, SqlDialect } from './schema.js';
import type { StoreBackend, StoreOps } from './store.js';
import type { OperationRecord, WorkspaceRecord } from '../core/types.js';

export interface StoreLogger {
  info(obj: object, msg?: string): void;
}

export interface KyselyStoreOptions {
  dialect: SqlDialect;
  driver: Dialect;
  logger?: StoreLogger;
}

export class KyselyStore extends KyselyOps implements StoreBackend {
  private readonly logger: StoreLogger | undefined;

  private constructor(db: Kysely<Database>, options: KyselyStoreOptions) {
    super(db, options.dialect, new RecordCache());
    this.logger = options.logger;
  }

  static create(options: KyselyStoreOptions): KyselyStore {
    return new KyselyStore(new Kysely<Database>({ dialect: options.driver }), options);
  }

  /** The row, its grants and its scoped tokens go together (see StoreOps.deleteWorkspace). */
  override async deleteWorkspace(name: string): Promise<void> {
    await this.transaction((tx) => tx.deleteWorkspace(name));
  }

  /**
   * Both reads in one snapshot (see StoreOps): a request's transaction that commits between them would
   * otherwise be read half, its workspace without its operation (a resume taken for a crash).
   * Nothing is written in it, so the records it decodes can be kept.
   */
  override async getWorkspaceAndOpenOperations(name: string): Promise<{ workspace: WorkspaceRecord | undefined; operations: OperationRecord[] }> {
    const snapshot = this.db.transaction();
    // PostgreSQL's default (read committed) takes a snapshot per statement; SQLite's transaction is one already.
    const consistent = this.dialect === 'postgres' ? snapshot.setIsolationLevel('repeatable read').setAccessMode('read only') : snapshot;
    return consistent.execute((trx) => new KyselyOps(trx, this.dialect, this.records).getWorkspaceAndOpenOperations(name));
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

  async unreadyReason(timeoutMs: number): Promise<string | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`the store did not answer within ${timeoutMs} ms`), timeoutMs);
    });
    try {
      return await Promise.race([this.missingMigration(), late]);
    } catch (err) {
      return `the store is unreachable: ${err instanceof Error ? err.message : String(err)}`;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Reads the migration bookkeeping (so it also proves the database answers); never creates it. */
  private async missingMigration(): Promise<string | undefined> {
    const migrator = new Migrator({ db: this.db, provider: migrationProvider(this.dialect), migrationTableSchema: await this.migrationSchema() });
    const missing = (await migrator.getMigrations()).filter((m) => m.executedAt === undefined).map((m) => m.name);
    return missing.length > 0 ? `store migrations not applied: ${missing.join(', ')}` : undefined;
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
    return this.db.transaction().execute((trx) => fn(new KyselyOps(trx, this.dialect)));
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}
