// The point lookups on every request's path (a workspace by name, a token by hash, an idempotency
// key), compiled to SQL once per store: building and compiling a Kysely query costs more than SQLite
// takes to answer it. On PostgreSQL, outside transactions, they also run as named prepared
// statements so the server parses and plans them once per connection.
import type { CompiledQuery, Kysely } from 'kysely';
import type pg from 'pg';
import type { Database, IdempotencyKeysTable, TokensTable, WorkspacesTable } from './schema.js';

export interface HotQuery<R> {
  /** The prepared statement's name on PostgreSQL. */
  name: string;
  compiled: CompiledQuery<R>;
}

export interface HotQueries {
  getWorkspace: HotQuery<WorkspacesTable>;
  findTokenByHash: HotQuery<TokensTable>;
  getIdempotency: HotQuery<IdempotencyKeysTable>;
}

/** Runs a hot query with these parameters and returns its rows. */
export type HotRunner = <R>(query: HotQuery<R>, parameters: unknown[]) => Promise<R[]>;

// Columns are named rather than `*`: a prepared statement whose result shape changed under it (a
// migration adding a column) fails on PostgreSQL.
const WORKSPACE_COLUMNS = [
  'name',
  'cluster_type',
  'project_uuid',
  'desired_state',
  'generation',
  'resource_version',
  'status',
  'namespace',
  'spec',
  'observed',
  'activity',
  'deletion',
  'created_at',
  'updated_at',
] as const;
const TOKEN_COLUMNS = ['id', 'hash', 'name', 'role', 'workspace', 'expires_at', 'created_at', 'revoked_at'] as const;
const IDEMPOTENCY_COLUMNS = ['key', 'actor', 'fingerprint', 'response', 'created_at'] as const;

export function compileHotQueries(db: Kysely<Database>): HotQueries {
  // The '' values are placeholders; each call binds its own parameters in the same order.
  return {
    getWorkspace: {
      name: 'wsm_get_workspace',
      compiled: db.selectFrom('workspaces').select(WORKSPACE_COLUMNS).where('name', '=', '').compile(),
    },
    findTokenByHash: {
      name: 'wsm_find_token_by_hash',
      compiled: db.selectFrom('tokens').select(TOKEN_COLUMNS).where('hash', '=', '').compile(),
    },
    getIdempotency: {
      name: 'wsm_get_idempotency',
      compiled: db
        .selectFrom('idempotency_keys')
        .select(IDEMPOTENCY_COLUMNS)
        .where('key', '=', '')
        .where('actor', '=', '')
        .compile(),
    },
  };
}

/** Runs hot queries through Kysely: the one choice inside a transaction, and on SQLite. */
export function kyselyRunner(db: Kysely<Database>): HotRunner {
  return async <R>(query: HotQuery<R>, parameters: unknown[]) => {
    const result = await db.executeQuery<R>({ ...query.compiled, parameters });
    return result.rows;
  };
}

/** Runs hot queries straight on the pool as named prepared statements. */
export function pgPreparedRunner(pool: pg.Pool): HotRunner {
  return async <R>(query: HotQuery<R>, parameters: unknown[]) => {
    const result = await pool.query({ name: query.name, text: query.compiled.sql, values: parameters });
    return result.rows as R[];
  };
}
