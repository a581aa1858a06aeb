// Opens the SQLite database file for Kysely's SqliteDialect, tuned for one server process that reads
// much more than it writes.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { SqliteDialect, type Driver, type SqliteDatabase, type SqliteStatement } from 'kysely';
import { startCheckpointer, WAL_SIZE_LIMIT_BYTES, type Checkpointer, type CheckpointerOptions } from './sqlite-checkpointer.js';

/** Enough for every distinct statement the store issues; a filter's IN list makes a few variants. */
const STATEMENT_CACHE_LIMIT = 500;

export interface OpenedSqlite {
  dialect: SqliteDialect;
  readIfIdle(sql: string, parameters: readonly unknown[], firstColumn?: boolean): unknown[] | undefined;
  /** Settles once the database is closed and its checkpoint worker has let go of the files. */
  closed(): Promise<void>;
}

/**
 * Kysely's SQLite dialect, keeping hold of its driver. The driver serialises all use of the one
 * connection: holding the connection through it is how the checkpoint worker gets a moment in which
 * nothing writes, and counting who holds it tells when a statement may run at once, outside the queue.
 */
class HoldableSqliteDialect extends SqliteDialect {
  private driver?: Driver;
  private holders = 0;

  constructor(private readonly database: SqliteDatabase) {
    super({ database });
  }

  override createDriver(): Driver {
    const driver = super.createDriver();
    const acquire = driver.acquireConnection.bind(driver);
    const release = driver.releaseConnection.bind(driver);
    driver.acquireConnection = async () => {
      const connection = await acquire();
      this.holders++;
      return connection;
    };
    driver.releaseConnection = async (connection) => {
      this.holders--;
      await release(connection);
    };
    this.driver = driver;
    return driver;
  }

  async whileIdle(work: () => Promise<void>): Promise<void> {
    const driver = this.driver;
    if (driver === undefined) return;
    const connection = await driver.acquireConnection();
    try {
      await work();
    } finally {
      await driver.releaseConnection(connection);
    }
  }

  /**
   * The rows of a read run now, synchronously, or undefined when a transaction or a queued statement
   * holds the connection. With `firstColumn`, each row is its first column's value: better-sqlite3
   * builds a row object for about a microsecond, a value for a third of that.
   */
  readIfIdle(sql: string, parameters: readonly unknown[], firstColumn = false): unknown[] | undefined {
    if (this.driver === undefined || this.holders > 0) return undefined;
    const statement = this.database.prepare(sql) as unknown as BetterSqlite3.Statement;
    if (!firstColumn) return statement.all(parameters);
    statement.pluck(true);
    try {
      return statement.all(parameters);
    } finally {
      statement.pluck(false);
    }
  }
}

export function openSqlite(path: string, wal: Pick<CheckpointerOptions, 'tuning' | 'onQuietMoment'> = {}): OpenedSqlite {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new BetterSqlite3(path);
  if (path !== ':memory:') db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  db.pragma('synchronous = NORMAL');
  let checkpointer: Checkpointer | undefined;
  let workerGone: Promise<void> = Promise.resolve();
  const database = withStatementCache(db, () => {
    if (checkpointer !== undefined) workerGone = checkpointer.stop();
  });
  const dialect = new HoldableSqliteDialect(database);
  if (path !== ':memory:') {
    db.pragma('wal_autocheckpoint = 0');
    db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
    checkpointer = startCheckpointer(path, {
      ...wal,
      onFailure: () => {
        if (db.open) db.pragma('wal_autocheckpoint = 1000');
      },
      whileIdle: (copy) => dialect.whileIdle(copy),
    });
  }
  return { dialect, readIfIdle: (sql, parameters, firstColumn) => dialect.readIfIdle(sql, parameters, firstColumn), closed: () => workerGone };
}

/**
 * Kysely prepares every query anew; preparing costs more than running a point lookup, so prepared
 * statements are kept by their SQL text. Safe because Kysely runs one query at a time on this
 * connection and the store never streams.
 */
function withStatementCache(db: BetterSqlite3.Database, beforeClose: () => void): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    prepare(sql: string): SqliteStatement {
      let stmt = cache.get(sql);
      if (stmt === undefined) {
        if (cache.size >= STATEMENT_CACHE_LIMIT) cache.clear();
        stmt = db.prepare(sql) as unknown as SqliteStatement;
        cache.set(sql, stmt);
      }
      return stmt;
    },
    close(): void {
      beforeClose();
      cache.clear();
      db.close();
    },
  };
}
