// StoreOps over Kysely. One instance is bound to the pool (or the single SQLite connection); each
// transaction gets another bound to its connection, sharing the hot queries compiled once per store.
import { sql, type Kysely } from 'kysely';
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
  replacedWorkspace,
  rowToWorkspace,
  tokenToRow,
  workspaceToRow,
} from './codec.js';
import {
  checkSqlCount,
  AUDIT_COLUMNS,
  OPERATION_COLUMNS,
  INSERTED_WORKSPACE_COLUMNS,
  REPLACED_WORKSPACE_COLUMNS,
  WORKSPACE_COLUMNS,
  type HotQueries,
  type HotRunner,
  type HotWriter,
  type OperationColumn,
} from './hot-queries.js';
import { lastActivityMs } from './idle-columns.js';
import { OPEN_OPERATION } from './partial-indexes.js';
import type { Database, SqlDialect } from './schema.js';
import type { WriteTicket } from './workspace-cache.js';
import type {
  AuditFilter,
  Grant,
  IdempotencyRecord,
  IdleCandidatesPage,
  IdleCursor,
  OperationPatch,
  StoreOps,
  WorkspaceFilter,
  WorkspacePage,
} from './store.js';

const SETTINGS_KEY = 'cluster';
const INSTALLATION_KEY = 'installation';

export interface WriteListener {
  /** Before and after this handle writes the cluster settings. */
  settings(): void;
  /** A write of this workspace's row is about to be issued; `membership`: it inserts or deletes the row. */
  writingWorkspace(name: string, membership: boolean): WriteTicket | undefined;
  /**
   * That write has run, or failed (called once per writingWorkspace, with the same arguments and its
   * ticket). `leaves`, given when it ran, works out the row it left from the record before it.
   */
  wroteWorkspace(name: string, membership: boolean, ticket: WriteTicket | undefined, leaves?: RowLeft): void;
}

/** The record a write left, from the record before it (undefined when that is not known); undefined when it cannot tell. */
export type RowLeft = (before: WorkspaceRecord | undefined) => WorkspaceRecord | undefined;

const NO_LISTENER: WriteListener = { settings: () => {}, writingWorkspace: () => undefined, wroteWorkspace: () => {} };

/** Escapes LIKE's wildcards so a search for "a_b" matches only that text. */
function likePattern(search: string): string {
  return `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export class KyselyOps implements StoreOps {
  constructor(
    protected readonly db: Kysely<Database>,
    protected readonly dialect: SqlDialect,
    protected readonly hot: HotQueries,
    private readonly runHot: HotRunner,
    private readonly writeHot: HotWriter,
    /** Told of writes, so that the store's caches drop what they changed. */
    protected readonly written: WriteListener = NO_LISTENER,
  ) {}

  async getWorkspace(name: string): Promise<WorkspaceRecord | undefined> {
    const rows = await this.runHot(this.hot.getWorkspace, [name]);
    const row = rows[0];
    return row === undefined ? undefined : rowToWorkspace(row);
  }

  async listWorkspaces(filter: WorkspaceFilter): Promise<WorkspacePage> {
    // Unlike the other lists, an empty `names` is a restriction to nothing (a token granted nothing).
    if (filter.names !== undefined && filter.names.length === 0) return { workspaces: [], total: 0 };
    const { count, pageNames } = this.pageQueries(filter);
    const counted = await count.executeTakeFirstOrThrow();
    const rows = await this.db
      .selectFrom('workspaces')
      .select(WORKSPACE_COLUMNS)
      .where('name', 'in', pageNames)
      .orderBy('name')
      .execute();
    return { workspaces: rows.map(rowToWorkspace), total: Number(counted.n) };
  }

  /**
   * The count of the workspaces a filter matches, and the names on its page: found from the indexes
   * alone, so a deep OFFSET or an IN list that defeats index order never sorts full rows. Limit and
   * offset are written into the SQL (SQLite re-plans a statement whose LIMIT is a parameter on
   * every run); the API bounds them.
   */
  protected pageQueries(filter: WorkspaceFilter) {
    let q = this.db.selectFrom('workspaces');
    if (filter.names !== undefined) q = q.where('name', 'in', filter.names);
    if (filter.cluster_type !== undefined) q = q.where('cluster_type', '=', filter.cluster_type);
    if (filter.status !== undefined && filter.status.length > 0) q = q.where('status', 'in', filter.status);
    if (filter.namespace !== undefined && filter.namespace.length > 0) {
      q = q.where('namespace', 'in', filter.namespace);
    }
    if (filter.search !== undefined && filter.search !== '') {
      // SQLite's LIKE already ignores ASCII case; PostgreSQL needs ILIKE.
      const op = sql.raw(this.dialect === 'postgres' ? 'ilike' : 'like');
      q = q.where(sql<boolean>`${sql.ref('name')} ${op} ${likePattern(filter.search)} escape '\\'`);
    }
    checkSqlCount('limit', filter.limit);
    checkSqlCount('offset', filter.offset);
    return {
      count: q.select((eb) => eb.fn.countAll().as('n')),
      pageNames: q.select('name').orderBy('name').limit(sql.lit(filter.limit)).offset(sql.lit(filter.offset)),
    };
  }

  /** Runs a write of a workspace's row with the listener told before and after, and what the row became. */
  private async writingWorkspace<T>(name: string, write: () => Promise<T>, leaves: (result: T, before: WorkspaceRecord | undefined) => WorkspaceRecord | undefined, membership = false): Promise<T> {
    const ticket = this.written.writingWorkspace(name, membership);
    let left: RowLeft | undefined;
    try {
      const result = await write();
      left = (before) => leaves(result, before);
      return result;
    } finally {
      this.written.wroteWorkspace(name, membership, ticket, left);
    }
  }

  async listWorkspaceNames(): Promise<string[]> {
    const rows = await this.runHot(this.hot.workspaceNames, []);
    return rows.map((r) => r.name);
  }

  async insertWorkspace(ws: WorkspaceRecord): Promise<void> {
    // ON CONFLICT DO NOTHING rather than catching the error: in PostgreSQL a failed statement
    // would abort the caller's whole transaction.
    const row = workspaceToRow(ws);
    const inserted = await this.writingWorkspace(
      ws.name,
      () => this.writeHot(this.hot.insertWorkspace, INSERTED_WORKSPACE_COLUMNS.map((c) => row[c])),
      (changes, before) => (changes > 0 ? rowToWorkspace(row) : before),
      true,
    );
    if (inserted === 0) throw new WsmError('conflict', `Workspace ${ws.name} already exists.`);
  }

  async replaceWorkspace(ws: WorkspaceRecord, expectedVersion: number): Promise<boolean> {
    // observed and activity have their own writers (the controller, the culler); a request that
    // read them a moment ago must not put an older value back.
    const row = workspaceToRow(ws);
    const values = [...REPLACED_WORKSPACE_COLUMNS.map((c) => row[c]), row.idle_limit_ms, row.idle_limit_ms, row.name, expectedVersion, row.uid];
    const replaced = (changes: number, before: WorkspaceRecord | undefined) => (changes === 0 ? before : before && replacedWorkspace(row, before));
    return (await this.writingWorkspace(ws.name, () => this.writeHot(this.hot.replaceWorkspace, values), replaced)) > 0;
  }

  async setObserved(name: string, observed: ObservedState): Promise<void> {
    const json = JSON.stringify(observed);
    await this.writingWorkspace(name, () => this.runHot(this.hot.setObserved, [json, observed.status, name]), (_, before) => before && { ...before, observed: JSON.parse(json) });
  }

  async setActivity(name: string, activity: ActivityState): Promise<void> {
    const last = lastActivityMs(activity);
    const json = JSON.stringify(activity);
    await this.writingWorkspace(name, () => this.runHot(this.hot.setActivity, [json, last, last, name]), (_, before) => before && { ...before, activity: JSON.parse(json) });
  }

  async listIdleCandidates(now: number, limit: number, after?: IdleCursor): Promise<IdleCandidatesPage> {
    const cursor = after ?? { cull_at: Number.MIN_SAFE_INTEGER, name: '' };
    const rows = await this.runHot(this.hot.idleCandidates(limit), [now, cursor.cull_at, cursor.cull_at, cursor.name]);
    const last = rows[rows.length - 1];
    return {
      workspaces: rows.map(rowToWorkspace),
      next: rows.length < limit || last === undefined ? undefined : { cull_at: Number(last.cull_at), name: last.name },
    };
  }

  async deleteWorkspace(name: string): Promise<void> {
    const deleted = await this.writingWorkspace(
      name,
      async () => Number((await this.db.deleteFrom('workspaces').where('name', '=', name).executeTakeFirst()).numDeletedRows),
      () => undefined,
      true,
    );
    if (deleted === 0) return;
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
    if ((await this.writeHot(this.hot.insertOperation, OPERATION_COLUMNS.map((c) => row[c]))) === 0) {
      throw new WsmError('conflict', `Operation ${op.id} already exists.`);
    }
  }

  async updateOperation(id: string, patch: OperationPatch): Promise<void> {
    const columns: OperationColumn[] = [];
    const values: unknown[] = [];
    const add = (column: OperationColumn, value: unknown) => {
      columns.push(column);
      values.push(value);
    };
    if (patch.state !== undefined) add('state', patch.state);
    if (patch.error !== undefined) add('error', patch.error);
    if (patch.attempts !== undefined) add('attempts', patch.attempts);
    if (patch.details !== undefined) add('details', JSON.stringify(patch.details));
    if (patch.started_at !== undefined) add('started_at', patch.started_at);
    if (patch.finished_at !== undefined) add('finished_at', patch.finished_at);
    if (columns.length === 0) return;
    await this.runHot(this.hot.updateOperation(columns), [...values, id]);
  }

  async getOperation(id: string): Promise<OperationRecord | undefined> {
    const rows = await this.runHot(this.hot.getOperation, [id]);
    const row = rows[0];
    return row === undefined ? undefined : rowToOperation(row);
  }

  async listOperations(workspace: string, limit: number): Promise<OperationRecord[]> {
    const rows = await this.runHot(this.hot.listOperations(limit), [workspace]);
    return rows.map(rowToOperation);
  }

  /** The operations first, then the workspace: a transaction committing in between only makes the workspace newer. */
  async getWorkspaceAndOpenOperations(name: string): Promise<{ workspace: WorkspaceRecord | undefined; operations: OperationRecord[] }> {
    const operations = await this.listOpenOperations(name);
    return { workspace: await this.getWorkspace(name), operations };
  }

  async listOpenOperations(workspace?: string): Promise<OperationRecord[]> {
    if (workspace !== undefined) {
      const rows = await this.runHot(this.hot.listOpenOperationsOf, [workspace]);
      return rows.map(rowToOperation);
    }
    const rows = await this.db
      .selectFrom('operations')
      .selectAll()
      .where(sql<boolean>`${sql.raw(OPEN_OPERATION)}`)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
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
    const rows = await this.runHot(this.hot.findTokenByHash, [hash]);
    const row = rows[0];
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
    await this.db
      .deleteFrom('grants')
      .where('token_id', '=', tokenId)
      .where('workspace', '=', workspace)
      .execute();
  }

  async listGrants(tokenId: string): Promise<Grant[]> {
    const rows = await this.db
      .selectFrom('grants')
      .selectAll()
      .where('token_id', '=', tokenId)
      .orderBy('workspace')
      .execute();
    return rows.map(rowToGrant);
  }

  async appendAudit(event: AuditEvent): Promise<void> {
    const row = auditToRow(event);
    await this.writeHot(this.hot.appendAudit, AUDIT_COLUMNS.map((c) => row[c]));
  }

  async listAudit(filter: AuditFilter): Promise<AuditEvent[]> {
    let q = this.db.selectFrom('audit_events').selectAll();
    if (filter.workspace !== undefined) q = q.where('workspace', '=', filter.workspace);
    const rows = await q.orderBy('id', 'desc').limit(filter.limit).execute();
    return rows.map(rowToAudit);
  }

  async getClusterSettings(): Promise<ClusterSettings> {
    const [row] = await this.runHot(this.hot.getClusterSetting, [SETTINGS_KEY]);
    return row === undefined ? { env: [], inherit_patterns: [] } : JSON.parse(row.value);
  }

  async putClusterSettings(settings: ClusterSettings): Promise<void> {
    const value = JSON.stringify(settings);
    this.written.settings();
    await this.db
      .insertInto('cluster_settings')
      .values({ key: SETTINGS_KEY, value })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
      .execute();
    this.written.settings();
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
    const rows = await this.runHot(this.hot.getIdempotency, [key, actor]);
    const row = rows[0];
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

  async deleteIdempotencyBefore(before: string): Promise<number> {
    const result = await this.db.deleteFrom('idempotency_keys').where('created_at', '<', before).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
