// The Store: StoreOps plus schema migration, transactions and shutdown, for either dialect.
import { Kysely, Migrator, sql, type Dialect } from 'kysely';
import type pg from 'pg';
import { compileHotQueries, kyselyRunner, kyselyWriter, pgPreparedRunner, pgPreparedWriter } from './hot-queries.js';
import { migrationProvider } from './migrations/index.js';
import { KyselyOps } from './ops.js';
import type { Database, SqlDialect } from './schema.js';
import type { ClusterSettings } from '../core/types.js';
import type { Store, StoreOps } from './store.js';

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
}

export class KyselyStore extends KyselyOps implements Store {
  private readonly logger: StoreLogger | undefined;
  private readonly afterClose: (() => Promise<void>) | undefined;
  /**
   * The cluster settings as last read outside a transaction: every reconcile reads them, and they
   * change only through putClusterSettings of this store (one server per database). Bumping the epoch
   * drops the cache, and a read that began before a write never fills it.
   */
  private settingsCache?: ClusterSettings;
  private settingsEpoch = 0;

  private constructor(db: Kysely<Database>, options: KyselyStoreOptions) {
    const runHot = options.pgPool !== undefined ? pgPreparedRunner(options.pgPool) : kyselyRunner(db);
    const writeHot = options.pgPool !== undefined ? pgPreparedWriter(options.pgPool) : kyselyWriter(db);
    super(db, options.dialect, compileHotQueries(db, options.dialect), runHot, writeHot, () => this.dropSettings());
    this.logger = options.logger;
    this.afterClose = options.afterClose;
  }

  private dropSettings(): void {
    this.settingsEpoch++;
    this.settingsCache = undefined;
  }

  override async getClusterSettings(): Promise<ClusterSettings> {
    if (this.settingsCache === undefined) {
      const epoch = this.settingsEpoch;
      const read = await super.getClusterSettings();
      if (epoch === this.settingsEpoch) this.settingsCache = read;
      else return read;
    }
    // A copy: callers may change what they get.
    return structuredClone(this.settingsCache);
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
    const written = () => {
      wroteSettings = true;
      this.dropSettings();
    };
    try {
      return await this.db
        .transaction()
        .execute((trx) => fn(new KyselyOps(trx, this.dialect, this.hot, kyselyRunner(trx), kyselyWriter(trx), written)));
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
