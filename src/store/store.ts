// The persistence interface. SQLite (default) and PostgreSQL implement it; callers see only this.
import type {
  ActivityState,
  AuditEvent,
  ClusterSettings,
  ClusterType,
  InstanceStatus,
  ObservedState,
  OperationRecord,
  Role,
  TokenRecord,
  WorkspaceRecord,
} from '../core/types.js';

export interface WorkspaceFilter {
  cluster_type?: ClusterType;
  status?: InstanceStatus[];
  namespace?: string[];
  /** Case-insensitive substring of the name. */
  search?: string;
  /** Only these names (a token that sees only the workspaces it was granted). */
  names?: string[];
  /**
   * Only workspaces that are (true) or are not (false) dormant: desired and observed stopped, neither
   * changed nor active since `cutoff` (ms since the epoch; core/dormancy.ts).
   */
  dormant?: { cutoff: number; dormant: boolean };
  limit: number;
  offset: number;
}

export interface WorkspacePage {
  workspaces: WorkspaceRecord[];
  total: number;
}

/** Where a page of idle candidates ended. */
export interface IdleCursor {
  cull_at: number;
  name: string;
}

export interface IdleCandidatesPage {
  workspaces: WorkspaceRecord[];
  /** Pass it back for the next page; absent after the last. */
  next?: IdleCursor;
}

/** A page of the workspaces that have a schedule, by name. */
export interface ScheduledPage {
  workspaces: WorkspaceRecord[];
  /** Pass it back for the next page (the last name); absent after the last. */
  next?: string;
}

export interface OperationPatch {
  state?: OperationRecord['state'];
  error?: string | null;
  attempts?: number;
  details?: Record<string, unknown>;
  started_at?: string;
  finished_at?: string;
}

export interface Grant {
  token_id: string;
  workspace: string;
  role: Role;
}

export interface StoredResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface IdempotencyRecord {
  key: string;
  actor: string;
  /** A hash of method, path and body: the same key with another request is a conflict. */
  fingerprint: string;
  response: StoredResponse;
  created_at: string;
}

export interface AuditFilter {
  workspace?: string;
  limit: number;
}

/** How many workspaces have one cluster type, observed status and desired state (for metrics). */
export interface WorkspaceCount {
  cluster_type: ClusterType;
  status: InstanceStatus;
  desired_state: 'running' | 'stopped';
  count: number;
}

/** Everything that can run inside one transaction. */
export interface StoreOps {
  getWorkspace(name: string): Promise<WorkspaceRecord | undefined>;
  listWorkspaces(filter: WorkspaceFilter): Promise<WorkspacePage>;
  /** Every workspace name (for the controller's resync), cheap: no spec is decoded. */
  listWorkspaceNames(): Promise<string[]>;
  /** Workspaces counted by cluster type, observed status and desired state, from the columns alone. */
  countWorkspaces(): Promise<WorkspaceCount[]>;
  /** Throws WsmError('conflict') when the name exists. */
  insertWorkspace(ws: WorkspaceRecord): Promise<void>;
  /**
   * Writes the record's spec, desired state, generation, resource_version, deletion and updated_at
   * when the stored row is still this workspace (its uid) at `expectedVersion` (compare-and-swap):
   * a record read before its workspace was deleted and created again never overwrites the new one.
   * Returns false, writing nothing, otherwise. Identity (uid, cluster type, project, namespace,
   * created_at) is fixed at insert; observed state and activity have their own writers.
   */
  replaceWorkspace(ws: WorkspaceRecord, expectedVersion: number): Promise<boolean>;
  /** The controller's write: observed state only; does not change resource_version. */
  setObserved(name: string, observed: ObservedState): Promise<void>;
  /** Activity only; does not change resource_version. */
  setActivity(name: string, activity: ActivityState): Promise<void>;
  /**
   * Observed-RUNNING workspaces with auto-termination on whose stored last activity is more than their
   * max_idle_seconds before `now` (ms since the epoch), read from an index: what a culler pass could
   * stop. Newer activity known only in memory is the caller's to weigh.
   */
  listIdleCandidates(now: number, limit: number, after?: IdleCursor): Promise<IdleCandidatesPage>;
  /** The workspaces whose spec has a schedule (deleting ones included), by name after `after`, from an index. */
  listScheduled(limit: number, after?: string): Promise<ScheduledPage>;
  /**
   * Removes the row and, with it, the grants on the workspace; tokens scoped to it are revoked. A
   * later workspace of the same name is another workspace: nothing granted on this one reaches it.
   * Nothing happens when no such row exists.
   */
  deleteWorkspace(name: string): Promise<void>;

  insertOperation(op: OperationRecord): Promise<void>;
  updateOperation(id: string, patch: OperationPatch): Promise<void>;
  getOperation(id: string): Promise<OperationRecord | undefined>;
  /**
   * The operations of one workspace, by its uid (not its name: a workspace deleted and created again
   * under the name has another uid and none of the first one's operations). Newest first.
   */
  listWorkspaceOperations(workspaceUid: string, limit: number): Promise<OperationRecord[]>;
  /** Pending or running operations, oldest first (all workspaces when none is named). */
  listOpenOperations(workspace?: string): Promise<OperationRecord[]>;
  /**
   * A workspace with its open operations, as one snapshot: a request writes a workspace and its new
   * operation together, and neither may be read without the other (an operation with the workspace
   * as it was before it loses the action; the workspace without its operation takes a resume for a
   * crash). The backend's own reads make one snapshot; inside a transaction, the transaction's.
   */
  getWorkspaceAndOpenOperations(name: string): Promise<{ workspace: WorkspaceRecord | undefined; operations: OperationRecord[] }>;

  insertToken(token: TokenRecord): Promise<void>;
  findTokenByHash(hash: string): Promise<TokenRecord | undefined>;
  listTokens(): Promise<TokenRecord[]>;
  revokeToken(id: string, at: string): Promise<boolean>;
  putGrant(grant: Grant): Promise<void>;
  deleteGrant(tokenId: string, workspace: string): Promise<void>;
  listGrants(tokenId: string): Promise<Grant[]>;

  appendAudit(event: AuditEvent): Promise<void>;
  listAudit(filter: AuditFilter): Promise<AuditEvent[]>;

  getClusterSettings(): Promise<ClusterSettings>;
  putClusterSettings(settings: ClusterSettings): Promise<void>;

  /**
   * This installation's id, kept in the store so that every replica of it (and every restart) has the
   * same: the one stored, else `proposed`, stored now.
   */
  installationId(proposed: string): Promise<string>;

  getIdempotency(key: string, actor: string): Promise<IdempotencyRecord | undefined>;
  putIdempotency(record: IdempotencyRecord): Promise<void>;
  /** Replaces the response stored under a key (a claim's placeholder by the request's answer). */
  settleIdempotency(key: string, actor: string, response: StoredResponse): Promise<void>;
  /** Forgets one key as stored at `createdAt` (a claim whose request failed or was abandoned). */
  deleteIdempotency(key: string, actor: string, createdAt: string): Promise<void>;
  /** Forgets the keys stored before this time (ISO 8601); returns how many. */
  deleteIdempotencyBefore(before: string): Promise<number>;
}

/** A database behind the store (change-feed.ts makes it publish what it commits). */
export interface StoreBackend extends StoreOps {
  /** Creates or upgrades the schema. Safe to call on every start. */
  migrate(): Promise<void>;
  /**
   * Why the store cannot serve now (unreachable, or a migration this build knows is not applied), or
   * undefined when it can. Answers within `timeoutMs`.
   */
  unreadyReason(timeoutMs: number): Promise<string | undefined>;
  /** Runs fn in one transaction: all of its writes land, or none do. */
  transaction<T>(fn: (tx: StoreOps) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Which part of a workspace a write changed: spec and desired state, what runs, activity, or all of it. */
export type WorkspaceWrite = 'created' | 'desired' | 'observed' | 'activity' | 'deleted';

/** A committed write, as the store's change feed (change-feed.ts) tells it. */
export type StoreChange =
  | { kind: 'workspace'; name: string; write: WorkspaceWrite }
  | { kind: 'operation-inserted'; operation: OperationRecord }
  /** The fields the write set; `error: null` removed the error. */
  | { kind: 'operation-updated'; id: string; patch: OperationPatch };

/** `received`: another replica committed it (pg-change-feed.ts); absent or false: this process did. */
export type ChangeListener = (change: StoreChange, received?: boolean) => void;

/** Where the committed changes are heard; only the store publishes them. */
export interface ChangeSource {
  /** Hears every change committed from now on, synchronously, in commit order; returns unsubscribe. */
  subscribe(listener: ChangeListener): () => void;
  readonly listenerCount: number;
}

export interface Store extends StoreBackend {
  /** Workspace and operation writes, published once committed. */
  readonly changes: ChangeSource;
}
