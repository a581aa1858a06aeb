// StoreOps as plain Kysely queries, the same for SQLite and PostgreSQL. One instance is bound to the
// database (the pool, or SQLite's one connection); each transaction gets another, bound to its own.
// Every read asks the database, so replicas sharing one see the same; a decoded workspace record is
// reused only when the database still holds the revision it was decoded from (record-cache.ts).
import { sql, type Kysely, type Updateable } from 'kysely';
import { WsmError } from '../core/errors.js';
import type {
  ActivityState,
  AuditEvent,
  ClusterSettings,
  ObservedState,
  OperationRecord,
  TokenRecord,
  WorkspaceRecord,
} from '../core/types.js';
import {
  auditToRow,
  operationToRow,
  rowToAudit,
  rowToGrant,
  rowToIdempotency,
  rowToOperation,
  rowToToken,
  rowToWorkspace,
  tokenToRow,
  workspaceToRow,
} from './codec.js';
import { idleLimitMs, lastActivityMs } from './idle-columns.js';
import { OPEN_OPERATION, RUNNING_WITH_DEADLINE, SCHEDULED } from './partial-indexes.js';
import type { RecordCache } from './record-cache.js';
import { pageQueriesFor, sqlCount } from './page-queries.js';
import { reusedQuery } from './reused-query.js';
import type { AuditEventsTable, Database, OperationsTable, SqlDialect, WorkspaceRow } from './schema.js';
import type {
  AuditFilter,
  Grant,
  IdempotencyRecord,
  IdleCandidatesPage,
  StoredResponse,
  IdleCursor,
  OperationPatch,
  ScheduledPage,
  StoreOps,
  WorkspaceCount,
  WorkspaceFilter,
  WorkspacePage,
} from './store.js';

const SETTINGS_KEY = 'cluster';
const INSTALLATION_KEY = 'installation';

/**
 * The columns a record is decoded from. The copies kept for filtering (status, namespace) and the
 * culler's columns stay in the database: every column read costs time on each row of a page.
 */
const WORKSPACE_COLUMNS = [
  'name',
  'uid',
  'cluster_type',
  'project_uuid',
  'desired_state',
  'generation',
  'resource_version',
  'spec',
  'observed',
  'activity',
  'deletion',
  'created_at',
  'updated_at',
] as const satisfies readonly (keyof WorkspaceRow)[];

// The statements of every request and reconcile, compiled once (reused-query.ts).
const workspaceVersion = reusedQuery((db, name: string) => db.selectFrom('workspaces').select(['uid', 'revision']).where('name', '=', name));
const workspaceRow = reusedQuery((db, name: string) => db.selectFrom('workspaces').select([...WORKSPACE_COLUMNS, 'revision']).where('name', '=', name));
const operationById = reusedQuery((db, id: string) => db.selectFrom('operations').selectAll().where('id', '=', id));
const openOperationsOf = reusedQuery((db, workspace: string) =>
  db.selectFrom('operations').selectAll().where(sql<boolean>`${sql.raw(OPEN_OPERATION)}`).where('workspace', '=', workspace).orderBy('created_at').orderBy('id'),
);
const writeObserved = reusedQuery((db, name: string, observed: string, status: string) =>
  db.updateTable('workspaces').set({ observed, status, revision: sql<number>`revision + 1` }).where('name', '=', name),
);
const writeActivity = reusedQuery((db, name: string, activity: string, last: number | null) =>
  db
    .updateTable('workspaces')
    .set({ activity, last_activity_ms: last, cull_at: sql<number>`idle_limit_ms + ${last}`, revision: sql<number>`revision + 1` })
    .where('name', '=', name),
);
// Observed state and activity have their own writers (the controller, the culler): a request that
// read them a moment ago must not put an older value back. Identity is fixed at insert.
const writeDesiredQuery = reusedQuery(
  (
    db,
    name: string,
    uid: string,
    expectedVersion: number,
    spec: string,
    desired: string,
    generation: number,
    resourceVersion: number,
    deletion: string | null,
    updatedAt: string,
    limit: number | null,
    scheduled: number,
  ) =>
    db
      .updateTable('workspaces')
      .set({
        spec,
        desired_state: desired,
        generation,
        resource_version: resourceVersion,
        deletion,
        updated_at: updatedAt,
        revision: sql<number>`revision + 1`,
        idle_limit_ms: limit,
        // The stored activity stays, so the deadline is computed from it here.
        cull_at: sql<number>`last_activity_ms + ${limit}`,
        scheduled,
      })
      .where('name', '=', name)
      .where('resource_version', '=', expectedVersion)
      .where('uid', '=', uid),
);
function writeDesired(db: Kysely<Database>, dialect: SqlDialect, ws: WorkspaceRecord, expectedVersion: number) {
  const row = workspaceToRow(ws);
  return writeDesiredQuery(db, dialect, ws.name, ws.uid, expectedVersion, row.spec, row.desired_state, row.generation, row.resource_version, row.deletion ?? null, row.updated_at, idleLimitMs(ws.spec), row.scheduled);
}
const clusterSetting = reusedQuery((db, key: string) => db.selectFrom('cluster_settings').select('value').where('key', '=', key));
const tokenByHash = reusedQuery((db, hash: string) => db.selectFrom('tokens').selectAll().where('hash', '=', hash));
const grantsOf = reusedQuery((db, tokenId: string) => db.selectFrom('grants').selectAll().where('token_id', '=', tokenId).orderBy('workspace'));
const idempotencyRecord = reusedQuery((db, key: string, actor: string) =>
  db.selectFrom('idempotency_keys').selectAll().where('key', '=', key).where('actor', '=', actor),
);
const OPERATION_COLUMNS = [
  'id', 'workspace', 'workspace_uid', 'action', 'actor', 'request', 'state', 'target_generation', 'target_state',
  'error', 'attempts', 'details', 'created_at', 'started_at', 'finished_at',
] as const satisfies readonly (keyof OperationsTable)[];
const AUDIT_COLUMNS = [
  'at', 'actor', 'action', 'workspace', 'generation_before', 'generation_after', 'result', 'detail', 'request_id',
] as const satisfies readonly (keyof AuditEventsTable)[];
/** Fails to compile when a table gains a column its insert does not list (the insert would drop it). */
type Unlisted<Table, Listed extends readonly unknown[]> = Exclude<keyof Table, Listed[number]>;
const everyColumnListed: [Unlisted<OperationsTable, typeof OPERATION_COLUMNS>, Unlisted<Omit<AuditEventsTable, 'id'>, typeof AUDIT_COLUMNS>] extends [never, never] ? true : false = true;
void everyColumnListed;

/** A row of `columns` from values given in that order (the codec gives every column, NULL as null). */
function rowOf<T>(columns: readonly (keyof T)[], values: readonly unknown[]): T {
  return Object.fromEntries(columns.map((column, i) => [column, values[i]])) as T;
}
const insertOperationRow = reusedQuery((db, ...values: unknown[]) =>
  db.insertInto('operations').values(rowOf<OperationsTable>(OPERATION_COLUMNS, values)).onConflict((oc) => oc.doNothing()),
);
const insertAuditRow = reusedQuery((db, ...values: unknown[]) => db.insertInto('audit_events').values(rowOf<Omit<AuditEventsTable, 'id'>>(AUDIT_COLUMNS, values)));
/** An operation's update, one query per set of columns it changes. */
const operationUpdates = new Map<string, ReturnType<typeof operationUpdate>>();
function operationUpdate(columns: readonly (keyof OperationsTable)[]) {
  return reusedQuery((db, id: string, ...values: unknown[]) =>
    db.updateTable('operations').set(rowOf<Updateable<OperationsTable>>(columns, values)).where('id', '=', id),
  );
}

/** The newest operations of a workspace, one query per limit (the limit is written into the SQL). */
const latestOperations = new Map<number, ReturnType<typeof latestOperationsQuery>>();
function latestOperationsQuery(limit: number) {
  return reusedQuery((db, workspaceUid: string) =>
    db.selectFrom('operations').selectAll().where('workspace_uid', '=', workspaceUid).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(sqlCount('limit', limit)),
  );
}

export class KyselyOps implements StoreOps {
  /**
   * @param records decoded records kept by (uid, revision); given only outside transactions, so that
   * nothing a transaction saw before it rolled back is ever kept.
   */
  constructor(
    protected readonly db: Kysely<Database>,
    protected readonly dialect: SqlDialect,
    protected readonly records?: RecordCache,
  ) {}

  async getWorkspace(name: string): Promise<WorkspaceRecord | undefined> {
    if (this.records !== undefined) {
      const [version] = (await workspaceVersion(this.db, this.dialect, name)).rows;
      if (version === undefined) return undefined;
      const kept = this.records.get(version);
      if (kept !== undefined) return kept;
    }
    const [row] = (await workspaceRow(this.db, this.dialect, name)).rows;
    if (row === undefined) return undefined;
    return this.records === undefined ? rowToWorkspace(row) : this.records.decode(row);
  }

  /**
   * The workspaces named, in this order, from the records kept for their current revisions, reading
   * and decoding only the rows that have none (a name whose row is gone since is left out).
   */
  private async workspacesByVersion(versions: readonly { name: string; uid: string; revision: number }[], records: RecordCache): Promise<WorkspaceRecord[]> {
    const found = versions.map((v) => records.get(v));
    const missing = versions.filter((_, i) => found[i] === undefined).map((v) => v.name);
    if (missing.length > 0) {
      const rows = await this.db.selectFrom('workspaces').select([...WORKSPACE_COLUMNS, 'revision']).where('name', 'in', missing).execute();
      const byName = new Map(rows.map((row) => [row.name, row]));
      versions.forEach((v, i) => {
        const row = found[i] === undefined ? byName.get(v.name) : undefined;
        if (row !== undefined) found[i] = records.decode(row);
      });
    }
    return found.filter((ws): ws is WorkspaceRecord => ws !== undefined);
  }

  async listWorkspaces(filter: WorkspaceFilter): Promise<WorkspacePage> {
    // Unlike the other lists, an empty `names` is a restriction to nothing (a token granted nothing).
    if (filter.names !== undefined && filter.names.length === 0) return { workspaces: [], total: 0 };
    const { count, versions, rows, values } = pageQueriesFor(this.dialect, filter, WORKSPACE_COLUMNS);
    const [counted] = (await count(this.db, this.dialect, ...values)).rows;
    const total = Number(counted?.n ?? 0);
    if (this.records !== undefined) {
      const page = await versions(this.db, this.dialect, ...values);
      return { workspaces: await this.workspacesByVersion(page.rows, this.records), total };
    }
    return { workspaces: (await rows(this.db, this.dialect, ...values)).rows.map((row) => rowToWorkspace(row)), total };
  }

  async countWorkspaces(): Promise<WorkspaceCount[]> {
    const rows = await this.db
      .selectFrom('workspaces')
      .select(['cluster_type', 'status', 'desired_state', (eb) => eb.fn.countAll().as('n')])
      .groupBy(['cluster_type', 'status', 'desired_state'])
      .execute();
    return rows.map((r) => ({
      cluster_type: r.cluster_type as WorkspaceCount['cluster_type'],
      status: r.status as WorkspaceCount['status'],
      desired_state: r.desired_state as WorkspaceCount['desired_state'],
      count: Number(r.n),
    }));
  }

  async listWorkspaceNames(): Promise<string[]> {
    const rows = await this.db.selectFrom('workspaces').select('name').orderBy('name').execute();
    return rows.map((r) => r.name);
  }

  async insertWorkspace(ws: WorkspaceRecord): Promise<void> {
    // ON CONFLICT DO NOTHING rather than catching the error: in PostgreSQL a failed statement
    // would abort the caller's whole transaction.
    const result = await this.db
      .insertInto('workspaces')
      .values(workspaceToRow(ws))
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    if (Number(result.numInsertedOrUpdatedRows ?? 0) === 0) throw new WsmError('conflict', `Workspace ${ws.name} already exists.`);
  }

  async replaceWorkspace(ws: WorkspaceRecord, expectedVersion: number): Promise<boolean> {
    const result = await writeDesired(this.db, this.dialect, ws, expectedVersion);
    return Number(result.numAffectedRows ?? 0) > 0;
  }

  async setObserved(name: string, observed: ObservedState): Promise<void> {
    await writeObserved(this.db, this.dialect, name, JSON.stringify(observed), observed.status);
  }

  async setActivity(name: string, activity: ActivityState): Promise<void> {
    await writeActivity(this.db, this.dialect, name, JSON.stringify(activity), lastActivityMs(activity));
  }

  async listIdleCandidates(now: number, limit: number, after?: IdleCursor): Promise<IdleCandidatesPage> {
    const cursor = after ?? { cull_at: Number.MIN_SAFE_INTEGER, name: '' };
    // A range of the partial (cull_at, name) index of running workspaces: a pass reads only what can be
    // due, never every row. The index's condition is stated as literal text, or no planner uses it.
    const query = this.db
      .selectFrom('workspaces')
      .select([...WORKSPACE_COLUMNS, 'cull_at'])
      .where(sql<boolean>`${sql.raw(RUNNING_WITH_DEADLINE)}`)
      .where('cull_at', '<', now)
      .where((eb) => eb.or([eb('cull_at', '>', cursor.cull_at), eb.and([eb('cull_at', '=', cursor.cull_at), eb('name', '>', cursor.name)])]))
      .orderBy('cull_at')
      .orderBy('name')
      .limit(sqlCount('limit', limit))
      .compile();
    const { rows } = await this.db.executeQuery(indexedBy(this.dialect, 'workspaces', 'workspaces_running_cull_at', query));
    const last = rows[rows.length - 1];
    return {
      workspaces: rows.map((row) => rowToWorkspace(row)),
      next: rows.length < limit || last === undefined ? undefined : { cull_at: Number(last.cull_at), name: last.name },
    };
  }

  async listScheduled(limit: number, after = ''): Promise<ScheduledPage> {
    // The partial index of scheduled workspaces, by name: a pass reads those few rows, never every row.
    const query = this.db
      .selectFrom('workspaces')
      .select(WORKSPACE_COLUMNS)
      .where(sql<boolean>`${sql.raw(SCHEDULED)}`)
      .where('name', '>', after)
      .orderBy('name')
      .limit(sqlCount('limit', limit))
      .compile();
    const { rows } = await this.db.executeQuery(indexedBy(this.dialect, 'workspaces', 'workspaces_scheduled', query));
    const last = rows[rows.length - 1];
    return { workspaces: rows.map((row) => rowToWorkspace(row)), next: rows.length < limit || last === undefined ? undefined : last.name };
  }

  /** Call it inside a transaction (KyselyStore does): the row, its grants and its tokens go together. */
  async deleteWorkspace(name: string): Promise<void> {
    const deleted = await this.db.deleteFrom('workspaces').where('name', '=', name).executeTakeFirst();
    if (Number(deleted.numDeletedRows) === 0) return;
    // What was granted on the workspace goes with it: a grant or a token bound to its name would
    // otherwise carry over to the next workspace given that name.
    await this.db.deleteFrom('grants').where('workspace', '=', name).execute();
    await this.db
      .updateTable('tokens')
      .set({ revoked_at: sql<string>`coalesce(revoked_at, ${new Date().toISOString()})` })
      .where('workspace', '=', name)
      .execute();
  }

  async insertOperation(op: OperationRecord): Promise<void> {
    const row = operationToRow(op);
    const result = await insertOperationRow(this.db, this.dialect, ...OPERATION_COLUMNS.map((c) => row[c]));
    if (Number(result.numAffectedRows ?? 0) === 0) throw new WsmError('conflict', `Operation ${op.id} already exists.`);
  }

  async updateOperation(id: string, patch: OperationPatch): Promise<void> {
    const set: Updateable<OperationsTable> = {};
    if (patch.state !== undefined) set.state = patch.state;
    if (patch.error !== undefined) set.error = patch.error;
    if (patch.attempts !== undefined) set.attempts = patch.attempts;
    if (patch.details !== undefined) set.details = JSON.stringify(patch.details);
    if (patch.started_at !== undefined) set.started_at = patch.started_at;
    if (patch.finished_at !== undefined) set.finished_at = patch.finished_at;
    const columns = Object.keys(set) as (keyof OperationsTable)[];
    if (columns.length === 0) return;
    const key = columns.join(',');
    let query = operationUpdates.get(key);
    if (query === undefined) {
      query = operationUpdate(columns);
      operationUpdates.set(key, query);
    }
    await query(this.db, this.dialect, id, ...columns.map((c) => set[c]));
  }

  async getOperation(id: string): Promise<OperationRecord | undefined> {
    const [row] = (await operationById(this.db, this.dialect, id)).rows;
    return row === undefined ? undefined : rowToOperation(row);
  }

  async listWorkspaceOperations(workspaceUid: string, limit: number): Promise<OperationRecord[]> {
    let query = latestOperations.get(limit);
    if (query === undefined) {
      query = latestOperationsQuery(limit);
      // The API asks for a few fixed limits; any other is compiled but not kept.
      if (latestOperations.size < 8) latestOperations.set(limit, query);
    }
    const { rows } = await query(this.db, this.dialect, workspaceUid);
    return rows.map(rowToOperation);
  }

  /**
   * The operations first, then the workspace: a request's transaction committing in between only makes
   * the workspace newer. Plain reads in this order hold at any isolation level, on either database.
   */
  async getWorkspaceAndOpenOperations(name: string): Promise<{ workspace: WorkspaceRecord | undefined; operations: OperationRecord[] }> {
    const operations = await this.listOpenOperations(name);
    return { workspace: await this.getWorkspace(name), operations };
  }

  async listOpenOperations(workspace?: string): Promise<OperationRecord[]> {
    if (workspace !== undefined) return (await openOperationsOf(this.db, this.dialect, workspace)).rows.map(rowToOperation);
    const rows = await this.db.selectFrom('operations').selectAll().where(sql<boolean>`${sql.raw(OPEN_OPERATION)}`).orderBy('created_at').orderBy('id').execute();
    return rows.map(rowToOperation);
  }

  async insertToken(token: TokenRecord): Promise<void> {
    const result = await this.db
      .insertInto('tokens')
      .values(tokenToRow(token))
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    if (Number(result.numInsertedOrUpdatedRows ?? 0) === 0) {
      throw new WsmError('conflict', `A token with this id or secret already exists.`);
    }
  }

  async findTokenByHash(hash: string): Promise<TokenRecord | undefined> {
    const [row] = (await tokenByHash(this.db, this.dialect, hash)).rows;
    return row === undefined ? undefined : rowToToken(row);
  }

  async listTokens(): Promise<TokenRecord[]> {
    const rows = await this.db.selectFrom('tokens').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map(rowToToken);
  }

  async revokeToken(id: string, at: string): Promise<boolean> {
    // A second revoke keeps the first time; it still reports that the token exists.
    const result = await this.db
      .updateTable('tokens')
      .set({ revoked_at: sql<string>`coalesce(revoked_at, ${at})` })
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async putGrant(grant: Grant): Promise<void> {
    await this.db
      .insertInto('grants')
      .values({ token_id: grant.token_id, workspace: grant.workspace, role: grant.role })
      .onConflict((oc) => oc.columns(['token_id', 'workspace']).doUpdateSet({ role: grant.role }))
      .execute();
  }

  async deleteGrant(tokenId: string, workspace: string): Promise<void> {
    await this.db.deleteFrom('grants').where('token_id', '=', tokenId).where('workspace', '=', workspace).execute();
  }

  async listGrants(tokenId: string): Promise<Grant[]> {
    const { rows } = await grantsOf(this.db, this.dialect, tokenId);
    return rows.map(rowToGrant);
  }

  async appendAudit(event: AuditEvent): Promise<void> {
    const row = auditToRow(event);
    await insertAuditRow(this.db, this.dialect, ...AUDIT_COLUMNS.map((c) => row[c]));
  }

  async listAudit(filter: AuditFilter): Promise<AuditEvent[]> {
    let q = this.db.selectFrom('audit_events').selectAll();
    if (filter.workspace !== undefined) q = q.where('workspace', '=', filter.workspace);
    const rows = await q.orderBy('id', 'desc').limit(filter.limit).execute();
    return rows.map(rowToAudit);
  }

  async getClusterSettings(): Promise<ClusterSettings> {
    const [row] = (await clusterSetting(this.db, this.dialect, SETTINGS_KEY)).rows;
    return row === undefined ? { env: [], inherit_patterns: [] } : JSON.parse(row.value);
  }

  async putClusterSettings(settings: ClusterSettings): Promise<void> {
    const value = JSON.stringify(settings);
    await this.db
      .insertInto('cluster_settings')
      .values({ key: SETTINGS_KEY, value })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
      .execute();
  }

  async installationId(proposed: string): Promise<string> {
    // The first writer's id wins; replicas starting together all read it back.
    await this.db
      .insertInto('cluster_settings')
      .values({ key: INSTALLATION_KEY, value: proposed })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    const row = await this.db.selectFrom('cluster_settings').select('value').where('key', '=', INSTALLATION_KEY).executeTakeFirstOrThrow();
    return row.value;
  }

  async getIdempotency(key: string, actor: string): Promise<IdempotencyRecord | undefined> {
    const [row] = (await idempotencyRecord(this.db, this.dialect, key, actor)).rows;
    return row === undefined ? undefined : rowToIdempotency(row);
  }

  async putIdempotency(record: IdempotencyRecord): Promise<void> {
    // The first response stored under a key is the one every retry gets.
    await this.db
      .insertInto('idempotency_keys')
      .values({
        key: record.key,
        actor: record.actor,
        fingerprint: record.fingerprint,
        response: JSON.stringify(record.response),
        created_at: record.created_at,
      })
      .onConflict((oc) => oc.columns(['key', 'actor']).doNothing())
      .execute();
  }

  async settleIdempotency(key: string, actor: string, response: StoredResponse): Promise<void> {
    await this.db.updateTable('idempotency_keys').set({ response: JSON.stringify(response) }).where('key', '=', key).where('actor', '=', actor).execute();
  }

  async deleteIdempotency(key: string, actor: string, createdAt: string): Promise<void> {
    await this.db.deleteFrom('idempotency_keys').where('key', '=', key).where('actor', '=', actor).where('created_at', '=', createdAt).execute();
  }

  async deleteIdempotencyBefore(before: string): Promise<number> {
    const result = await this.db.deleteFrom('idempotency_keys').where('created_at', '<', before).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

/**
 * On SQLite, names the index the query must read. Without statistics SQLite's planner prefers an
 * equality on an ordinary index to a range on a partial one, and would read every running workspace
 * and sort them; INDEXED BY also makes the statement fail, rather than run slowly, should the index
 * ever stop matching it. PostgreSQL plans from the statistics it keeps.
 */
export function indexedBy<Q extends { sql: string }>(dialect: SqlDialect, table: string, index: string, query: Q): Q {
  if (dialect !== 'sqlite') return query;
  const from = `from "${table}"`;
  if (!query.sql.includes(from)) throw new Error(`indexedBy: the query does not read ${from}`);
  return { ...query, sql: query.sql.replace(from, `${from} indexed by "${index}"`) };
}
