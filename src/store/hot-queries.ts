// The statements on every request's and every reconcile's path (a workspace by name, a token by
// hash, an idempotency key, a workspace's operations, the observed-state write), compiled to SQL once
// per store: building and compiling a Kysely query costs more than SQLite takes to answer it. On PostgreSQL, outside transactions, they also run as named prepared
// statements so the server parses and plans them once per connection.
import { sql, type CompiledQuery, type Kysely } from 'kysely';
import type pg from 'pg';
import { OPEN_OPERATION, RUNNING_WITH_DEADLINE } from './partial-indexes.js';
import type { AuditEventsTable, ClusterSettingsTable, Database, IdempotencyKeysTable, OperationsTable, SqlDialect, TokensTable, WorkspaceRow } from './schema.js';

export interface HotQuery<R> {
  /** The prepared statement's name on PostgreSQL. */
  name: string;
  compiled: CompiledQuery<R>;
}

export interface HotQueries {
  getWorkspace: HotQuery<WorkspaceRow>;
  /** Every workspace's name, in order. No parameters. */
  workspaceNames: HotQuery<{ name: string }>;
  /**
   * Running workspaces whose stored idle deadline has passed, in (cull_at, name) order after a cursor,
   * at most `limit` of them. Parameters: now, cursor cull_at (twice), cursor name.
   */
  idleCandidates(limit: number): HotQuery<WorkspaceRow & { cull_at: number | string }>;
  findTokenByHash: HotQuery<TokensTable>;
  getIdempotency: HotQuery<IdempotencyKeysTable>;
  /** Parameters: id. */
  getOperation: HotQuery<OperationsTable>;
  /** At most `limit` operations of a workspace, newest first. Parameters: workspace. */
  listOperations(limit: number): HotQuery<OperationsTable>;
  /** Parameters: workspace. Oldest first. */
  listOpenOperationsOf: HotQuery<OperationsTable>;
  /** Parameters: key. */
  getClusterSetting: HotQuery<Pick<ClusterSettingsTable, 'value'>>;
  /** Parameters: observed, status, name. */
  setObserved: HotQuery<never>;
  /** Parameters: activity, its last activity in ms (twice), name. */
  setActivity: HotQuery<never>;
  /** Parameters: INSERTED_WORKSPACE_COLUMNS' values. Affects no row when the name exists. */
  insertWorkspace: HotQuery<never>;
  /**
   * Parameters: REPLACED_WORKSPACE_COLUMNS' values, the idle limit in ms (twice: its column and the
   * deadline from the stored last activity), then name, the expected resource_version and the uid.
   */
  replaceWorkspace: HotQuery<never>;
  /** Parameters: OPERATION_COLUMNS' values. Affects no row when the id exists. */
  insertOperation: HotQuery<never>;
  /** Parameters: AUDIT_COLUMNS' values. */
  appendAudit: HotQuery<never>;
  /** The update of these operation columns (a patch's shape); parameters: their values in this order, then id. */
  updateOperation(columns: readonly OperationColumn[]): HotQuery<never>;
}

export type OperationColumn = 'state' | 'error' | 'attempts' | 'details' | 'started_at' | 'finished_at';

/** Runs a hot query with these parameters and returns its rows. */
export type HotRunner = <R>(query: HotQuery<R>, parameters: unknown[]) => Promise<R[]>;

/** Runs a hot write with these parameters and returns how many rows it changed. */
export type HotWriter = (query: HotQuery<never>, parameters: unknown[]) => Promise<number>;

// Columns are named rather than `*`: a prepared statement whose result shape changed under it (a
// migration adding a column) fails on PostgreSQL.
export const WORKSPACE_COLUMNS = [
  'name',
  'uid',
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
/** A new row also gets the idle culler's columns (src/store/idle-columns.ts). */
export const INSERTED_WORKSPACE_COLUMNS = [...WORKSPACE_COLUMNS, 'idle_limit_ms', 'last_activity_ms', 'cull_at'] as const;
/**
 * What a request may rewrite. Observed state and activity have their own writers; name, uid, cluster
 * type, project, namespace and creation time are fixed at create, and leaving them out keeps the
 * write away from the indexes that hold them.
 */
const FIXED_OR_SEPARATELY_WRITTEN = ['name', 'uid', 'cluster_type', 'project_uuid', 'namespace', 'created_at', 'observed', 'status', 'activity'] as const;
export const REPLACED_WORKSPACE_COLUMNS = WORKSPACE_COLUMNS.filter(
  (c): c is Exclude<(typeof WORKSPACE_COLUMNS)[number], (typeof FIXED_OR_SEPARATELY_WRITTEN)[number]> =>
    !(FIXED_OR_SEPARATELY_WRITTEN as readonly string[]).includes(c),
);
const TOKEN_COLUMNS = ['id', 'hash', 'name', 'role', 'workspace', 'expires_at', 'created_at', 'revoked_at'] as const;
const IDEMPOTENCY_COLUMNS = ['key', 'actor', 'fingerprint', 'response', 'created_at'] as const;
export const OPERATION_COLUMNS = [
  'id',
  'workspace',
  'action',
  'actor',
  'request',
  'state',
  'target_generation',
  'target_state',
  'error',
  'attempts',
  'details',
  'created_at',
  'started_at',
  'finished_at',
] as const;
export const AUDIT_COLUMNS = [
  'at',
  'actor',
  'action',
  'workspace',
  'generation_before',
  'generation_after',
  'result',
  'detail',
  'request_id',
] as const satisfies readonly (keyof Omit<AuditEventsTable, 'id'>)[];

/** An object of '' for each column: the values a statement is compiled with, bound anew on each call. */
function placeholders<C extends string>(columns: readonly C[]): Record<C, any> {
  return Object.fromEntries(columns.map((c) => [c, ''])) as Record<C, any>;
}

/** A count written into SQL text (LIMIT, OFFSET) must be a plain non-negative integer. */
export function checkSqlCount(field: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${field} must be a non-negative integer, got ${value}`);
}

/**
 * A statement per LIMIT, the limit written into the SQL: SQLite compiles a bound LIMIT into the plan
 * and so prepares the statement again on every run (measured: 15 µs instead of 2.5 µs for the last
 * operation of a workspace). Callers pass a few fixed limits, so the statements stay few.
 */
function perLimit<R>(compile: (limit: number) => HotQuery<R>): (limit: number) => HotQuery<R> {
  const compiled = new Map<number, HotQuery<R>>();
  return (limit) => {
    checkSqlCount('limit', limit);
    let query = compiled.get(limit);
    if (query === undefined) {
      query = compile(limit);
      compiled.set(limit, query);
    }
    return query;
  };
}

export function compileHotQueries(db: Kysely<Database>, dialect: SqlDialect): HotQueries {
  // A patch sets one of a few column combinations; each is compiled the first time it is seen.
  const operationUpdates = new Map<string, HotQuery<never>>();
  const updateOperation = (columns: readonly OperationColumn[]): HotQuery<never> => {
    const key = columns.join(',');
    let query = operationUpdates.get(key);
    if (query === undefined) {
      const set = Object.fromEntries(columns.map((c) => [c, ''])) as Partial<OperationsTable>;
      query = {
        name: `wsm_update_operation_${columns.map((c) => c.slice(0, 3)).join('_')}`,
        compiled: db.updateTable('operations').set(set).where('id', '=', '').compile() as CompiledQuery<never>,
      };
      operationUpdates.set(key, query);
    }
    return query;
  };
  // The '' values are placeholders; each call binds its own parameters in the same order.
  return {
    updateOperation,
    insertWorkspace: {
      name: 'wsm_insert_workspace',
      compiled: db
        .insertInto('workspaces')
        .values(placeholders(INSERTED_WORKSPACE_COLUMNS))
        .onConflict((oc) => oc.doNothing())
        .compile() as CompiledQuery<never>,
    },
    replaceWorkspace: {
      name: 'wsm_replace_workspace',
      compiled: db
        .updateTable('workspaces')
        .set({
          ...placeholders(REPLACED_WORKSPACE_COLUMNS),
          idle_limit_ms: 0,
          // The activity stays as stored (it has its own writer), so the deadline is computed from it here.
          cull_at: sql<number>`last_activity_ms + ${0}`,
        })
        .where('name', '=', '')
        .where('resource_version', '=', 0)
        .where('uid', '=', '')
        .compile() as CompiledQuery<never>,
    },
    insertOperation: {
      name: 'wsm_insert_operation',
      compiled: db
        .insertInto('operations')
        .values(placeholders(OPERATION_COLUMNS))
        .onConflict((oc) => oc.doNothing())
        .compile() as CompiledQuery<never>,
    },
    appendAudit: {
      name: 'wsm_append_audit',
      compiled: db.insertInto('audit_events').values(placeholders(AUDIT_COLUMNS)).compile() as CompiledQuery<never>,
    },
    getWorkspace: {
      name: 'wsm_get_workspace',
      compiled: db.selectFrom('workspaces').select(WORKSPACE_COLUMNS).where('name', '=', '').compile(),
    },
    workspaceNames: {
      name: 'wsm_workspace_names',
      compiled: db.selectFrom('workspaces').select('name').orderBy('name').compile(),
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
    getOperation: {
      name: 'wsm_get_operation',
      compiled: db.selectFrom('operations').select(OPERATION_COLUMNS).where('id', '=', '').compile(),
    },
    listOperations: perLimit((limit) => ({
      name: `wsm_list_operations_${limit}`,
      compiled: db
        .selectFrom('operations')
        .select(OPERATION_COLUMNS)
        .where('workspace', '=', '')
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(sql.lit(limit))
        .compile(),
    })),
    listOpenOperationsOf: {
      name: 'wsm_list_open_operations_of',
      compiled: db
        .selectFrom('operations')
        .select(OPERATION_COLUMNS)
        .where(sql<boolean>`${sql.raw(OPEN_OPERATION)}`)
        .where('workspace', '=', '')
        .orderBy('created_at')
        .orderBy('id')
        .compile(),
    },
    getClusterSetting: {
      name: 'wsm_get_cluster_setting',
      compiled: db.selectFrom('cluster_settings').select('value').where('key', '=', '').compile(),
    },
    setObserved: {
      name: 'wsm_set_observed',
      compiled: db.updateTable('workspaces').set({ observed: '', status: '' }).where('name', '=', '').compile() as CompiledQuery<never>,
    },
    setActivity: {
      name: 'wsm_set_activity',
      compiled: db
        .updateTable('workspaces')
        .set({ activity: '', last_activity_ms: 0, cull_at: sql<number>`idle_limit_ms + ${0}` })
        .where('name', '=', '')
        .compile() as CompiledQuery<never>,
    },
    idleCandidates: perLimit((limit) => ({
      name: `wsm_idle_candidates_${limit}`,
      // A range of the partial (cull_at, name) index of running workspaces: a pass reads only what can
      // be due, never every row.
      compiled: indexedBy(
        dialect,
        'workspaces',
        'workspaces_running_cull_at',
        db
          .selectFrom('workspaces')
          .select([...WORKSPACE_COLUMNS, 'cull_at'])
          .where(sql<boolean>`${sql.raw(RUNNING_WITH_DEADLINE)}`)
          .where('cull_at', '<', 0)
          .where((eb) => eb.or([eb('cull_at', '>', 0), eb.and([eb('cull_at', '=', 0), eb('name', '>', '')])]))
          .orderBy('cull_at')
          .orderBy('name')
          .limit(sql.lit(limit))
          .compile() as CompiledQuery<WorkspaceRow & { cull_at: number | string }>,
      ),
    })),
  };
}

/** Runs hot queries through Kysely: the one choice inside a transaction, and on SQLite. */
export function kyselyRunner(db: Kysely<Database>): HotRunner {
  return async <R>(query: HotQuery<R>, parameters: unknown[]) => {
    const result = await db.executeQuery<R>({ ...query.compiled, parameters });
    return result.rows;
  };
}

export function kyselyWriter(db: Kysely<Database>): HotWriter {
  return async (query, parameters) => {
    const result = await db.executeQuery({ ...query.compiled, parameters });
    return Number(result.numAffectedRows ?? 0);
  };
}

export function pgPreparedWriter(pool: pg.Pool): HotWriter {
  return async (query, parameters) => {
    const result = await pool.query({ name: query.name, text: query.compiled.sql, values: parameters });
    return result.rowCount ?? 0;
  };
}

/** Runs hot queries straight on the pool as named prepared statements. */
export function pgPreparedRunner(pool: pg.Pool): HotRunner {
  return async <R>(query: HotQuery<R>, parameters: unknown[]) => {
    const result = await pool.query({ name: query.name, text: query.compiled.sql, values: parameters });
    return result.rows as R[];
  };
}

/**
 * On SQLite, names the index the query must read. Without statistics SQLite's planner prefers an
 * equality on an ordinary index to a range on a partial one, and would read every running workspace
 * and sort them; INDEXED BY also makes the statement fail to prepare, rather than run slowly, should
 * the index ever stop matching it. PostgreSQL plans from the statistics it keeps.
 */
function indexedBy<R>(dialect: SqlDialect, table: string, index: string, query: CompiledQuery<R>): CompiledQuery<R> {
  if (dialect !== 'sqlite') return query;
  const from = `from "${table}"`;
  if (!query.sql.includes(from)) throw new Error(`indexedBy: the query does not read ${from}`);
  return { ...query, sql: query.sql.replace(from, `${from} indexed by "${index}"`) };
}
