// Opens the store: PostgreSQL when given a postgres:// URL, otherwise SQLite in the data dir.
import { join } from 'node:path';
import { PostgresDialect } from 'kysely';
import { resilientPool } from './pg-pool.js';
import { KyselyStore, type StoreLogger } from './kysely-store.js';
import { ChangeFeed, publishingStore } from './change-feed.js';
import { PgChangeRelay } from './pg-change-feed.js';
import { openSqlite } from './sqlite.js';
import type { Store } from './store.js';

export type { Store, StoreOps } from './store.js';
export type { ChangeFeed, StoreChange } from './change-feed.js';

export interface OpenStoreOptions {
  /** SQLite lives at <dataDir>/wsm.sqlite (the dir is created). */
  dataDir?: string;
  /** postgres://… or postgresql://… selects PostgreSQL. */
  databaseUrl?: string;
  /** An explicit SQLite file, or ':memory:'; wins over dataDir. */
  sqlitePath?: string;
  /** A pino-like logger; migrations are logged at info. */
  logger?: unknown;
  /** PostgreSQL pool size (default 10). */
  poolSize?: number;
}

export function isPostgresUrl(url: string | undefined): url is string {
  return url !== undefined && /^postgres(ql)?:\/\//i.test(url);
}

/** Opens the store and brings its schema up to date. */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const logger = asLogger(options.logger);
  let store: KyselyStore;
  if (isPostgresUrl(options.databaseUrl)) {
    // A connection the server dropped is replaced on the next query; /readyz tells meanwhile.
    const pool = resilientPool(options.databaseUrl, options.poolSize ?? 10, (err) =>
      asWarner(options.logger)?.warn({ err }, 'an idle PostgreSQL connection failed; it is replaced on the next query'),
    );
    store = KyselyStore.create({ dialect: 'postgres', driver: new PostgresDialect({ pool }), logger });
  } else {
    const path = options.sqlitePath ?? join(options.dataDir ?? '.wsm', 'wsm.sqlite');
    store = KyselyStore.create({ dialect: 'sqlite', driver: openSqlite(path), logger });
  }
  try {
    await store.migrate();
  } catch (err) {
    await store.close();
    throw err;
  }
  if (!isPostgresUrl(options.databaseUrl)) return publishingStore(store);
  const feed = new ChangeFeed();
  const published = publishingStore(store, feed);
  let relay: PgChangeRelay;
  try {
    relay = await PgChangeRelay.start({ databaseUrl: options.databaseUrl, feed, store: published, logger: asWarner(options.logger) });
  } catch (err) {
    await store.close();
    throw err;
  }
  return closingAlso(published, () => relay.close());
}

/** The store, whose close() first ends `before` (the relay's connection). */
function closingAlso(store: Store, before: () => Promise<void>): Store {
  const close = async () => {
    await before();
    await store.close();
  };
  return new Proxy(store, { get: (target, key) => (key === 'close' ? close : Reflect.get(target, key, target)) });
}

function asWarner(value: unknown): { warn(obj: object, msg: string): void } | undefined {
  return typeof value === 'object' && value !== null && typeof (value as { warn?: unknown }).warn === 'function' ? (value as { warn(obj: object, msg: string): void }) : undefined;
}

function asLogger(value: unknown): StoreLogger | undefined {
  if (typeof value === 'object' && value !== null && typeof (value as StoreLogger).info === 'function') {
    return value as StoreLogger;
  }
  return undefined;
}
