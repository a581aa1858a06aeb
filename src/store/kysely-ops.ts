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
import { OPEN_OPERATION, RUNNING_WITH_DEADLINE } from './partial-indexes.js';
import type { RecordCache } from './record-cache.js';
import type { Database, OperationsTable, SqlDialect, WorkspaceRow } from './schema.js';
import type {
  AuditFilter,
  Grant,
  IdempotencyRecord,
  IdleCandidatesPage,
  StoredResponse,
  IdleCursor,
  OperationPatch,
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

/** Escapes LIKE's wildcards so a search for "a_b" matches only that text. */
function likePattern(search: string): string {
  return `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * A LIMIT or OFFSET written into the SQL text: SQLite plans a bound LIMIT anew on every run. It must
 * then be a plain non-negative integer (the API bounds the values; this guards the SQL).
 */
function sqlCount(field: string, value: number) {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${field} must be a non-negative integer, got ${value}`);
  return sql.lit(value);
}

export class KyselyOps implements StoreOps {
  /**
   * @param records decoded records kept by (uid, revision); given only outside transactions, so that
   * nothing a transaction saw before it rolled back is ever kept.
   */
  constructor(
    protected readonly db: Kysely<Database>,
    protected readonly dialect: SqlDialect,
    private readonly records?: RecordCache,
  ) {}

  async getWorkspace(name: string): Promise<WorkspaceRecord | undefined> {
    if (this.records !== undefined) {
      const version = await this.db.selectFrom('workspaces').select(['uid', 'revision']).where('name', '=', name).executeTakeFirst();
      if (version === undefined) return undefined;
      const kept = this.records.get(version);
      if (kept !== undefined) return kept;
    }
    const row = await this.db.selectFrom('workspaces').select([...WORKSPACE_COLUMNS, 'revision']).where('name', '=', name).executeTakeFirst();
    if (row === undefined) return undefined;
    return this.records === undefined ? rowToWorkspace(row) : this.records.put(row, rowToWorkspace(row));
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
        if (row !== undefined) found[i] = records.put(row, rowToWorkspace(row));
      });
    }
    return found.filter((ws): ws is WorkspaceRecord => ws !== undefined);
  }

  async listWorkspaces(filter: WorkspaceFilter): Promise<WorkspacePage> {
    // Unlike the other lists, an empty `names` is a restriction to nothing (a token granted nothing).
    if (filter.names !== undefined && filter.names.length === 0) return { workspaces: [], total: 0 };
    let q = this.db.selectFrom('workspaces');
    if (filter.names !== undefined) q = q.where('name', 'in', filter.names);
    if (filter.cluster_type !== undefined) q = q.where('cluster_type', '=', filter.cluster_type);
    if (filter.status !== undefined && filter.status.length > 0) q = q.where('status', 'in', filter.status);
    if (filter.namespace !== undefined && filter.namespace.length > 0) q = q.where('namespace', 'in', filter.namespace);
    if (filter.search !== undefined && filter.search !== '') {
      // SQLite's LIKE already ignores ASCII case; PostgreSQL needs ILIKE.
      const op = sql.raw(this.dialect === 'postgres' ? 'ilike' : 'like');
      q = q.where(sql<boolean>`${sql.ref('name')} ${op} ${likePattern(filter.search)} escape '\\'`);
    }
    // The page's names are found from the indexes alone, so a deep OFFSET never sorts full rows.
    const pageNames = q.select('name').orderBy('name').limit(sqlCount('limit', filter.limit)).offset(sqlCount('offset', filter.offset));
    const counted = await q.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    const total = Number(counted.n);
    if (this.records !== undefined) {
      const versions = await this.db.selectFrom('workspaces').select(['name', 'uid', 'revision']).where('name', 'in', pageNames).orderBy('name').execute();
      return { workspaces: await this.workspacesByVersion(versions, this.records), total };
    }
    const rows = await this.db.selectFrom('workspaces').select(WORKSPACE_COLUMNS).where('name', 'in', pageNames).orderBy('name').execute();
    return { workspaces: rows.map(rowToWorkspace), total };
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
    // Observed state and activity have their own writers (the controller, the culler): a request that
    // read them a moment ago must not put an older value back. Identity is fixed at insert.
    const row = workspaceToRow(ws);
    const limit = idleLimitMs(ws.spec);
    const result = await this.db
      .updateTable('workspaces')
      .set({
        spec: row.spec,
        desired_state: row.desired_state,
        generation: row.generation,
        resource_version: row.resource_version,
        deletion: row.deletion,
        updated_at: row.updated_at,
        revision: sql<number>`revision + 1`,
        idle_limit_ms: limit,
        // The stored activity stays, so the deadline is computed from it here.
        cull_at: sql<number>`last_activity_ms + ${limit}`,
      })
      .where('name', '=', ws.name)
      .where('resource_version', '=', expectedVersion)
      .where('uid', '=', ws.uid)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async setObserved(name: string, observed: ObservedState): Promise<void> {
    await this.db.updateTable('workspaces').set({ observed: JSON.stringify(observed), status: observed.status, revision: sql<number>`revision + 1` }).where('name', '=', name).execute();
  }

  async setActivity(name: string, activity: ActivityState): Promise<void> {
    const last = lastActivityMs(activity);
    await this.db
      .updateTable('workspaces')
      .set({ activity: JSON.stringify(activity), last_activity_ms: last, cull_at: sql<number>`idle_limit_ms + ${last}`, revision: sql<number>`revision + 1` })
      .where('name', '=', name)
      .execute();
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
      workspaces: rows.map(rowToWorkspace),
      next: rows.length < limit || last === undefined ? undefined : { cull_at: Number(last.cull_at), name: last.name },
    };
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
    const result = await this.db
      .insertInto('operations')
      .values(operationToRow(op))
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    if (Number(result.numInsertedOrUpdatedRows ?? 0) === 0) throw new WsmError('conflict', `Operation ${op.id} already exists.`);
  }

  async updateOperation(id: string, patch: OperationPatch): Promise<void> {
    const set: Updateable<OperationsTable> = {};
    if (patch.state !== undefined) set.state = patch.state;
    if (patch.error !== undefined) set.error = patch.error;
    if (patch.attempts !== undefined) set.attempts = patch.attempts;
    if (patch.details !== undefined) set.details = JSON.stringify(patch.details);
    if (patch.started_at !== undefined) set.started_at = patch.started_at;
    if (patch.finished_at !== undefined) set.finished_at = patch.finished_at;
    if (Object.keys(set).length === 0) return;
    await this.db.updateTable('operations').set(set).where('id', '=', id).execute();
  }

  async getOperation(id: string): Promise<OperationRecord | undefined> {
    const row = await this.db.selectFrom('operations').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : rowToOperation(row);
  }

  async listWorkspaceOperations(workspaceUid: string, limit: number): Promise<OperationRecord[]> {
    const rows = await this.db
      .selectFrom('operations')
      .selectAll()
      .where('workspace_uid', '=', workspaceUid)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(sqlCount('limit', limit))
      .execute();
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
    let q = this.db.selectFrom('operations').selectAll().where(sql<boolean>`${sql.raw(OPEN_OPERATION)}`);
    if (workspace !== undefined) q = q.where('workspace', '=', workspace);
    const rows = await q.orderBy('created_at').orderBy('id').execute();
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
    const row = await this.db.selectFrom('tokens').selectAll().where('hash', '=', hash).executeTakeFirst();
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
    const rows = await this.db.selectFrom('grants').selectAll().where('token_id', '=', tokenId).orderBy('workspace').execute();
    return rows.map(rowToGrant);
  }

  async appendAudit(event: AuditEvent): Promise<void> {
    await this.db.insertInto('audit_events').values(auditToRow(event)).execute();
  }

  async listAudit(filter: AuditFilter): Promise<AuditEvent[]> {
    let q = this.db.selectFrom('audit_events').selectAll();
    if (filter.workspace !== undefined) q = q.where('workspace', '=', filter.workspace);
    const rows = await q.orderBy('id', 'desc').limit(filter.limit).execute();
    return rows.map(rowToAudit);
  }

  async getClusterSettings(): Promise<ClusterSettings> {
    const row = await this.db.selectFrom('cluster_settings').select('value').where('key', '=', SETTINGS_KEY).executeTakeFirst();
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
    const row = await this.db.selectFrom('idempotency_keys').selectAll().where('key', '=', key).where('actor', '=', actor).executeTakeFirst();
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
