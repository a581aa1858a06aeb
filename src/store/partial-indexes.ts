// The conditions of the partial indexes (migration 0003). A query uses a partial index only when its
// WHERE states the index's condition with literals (neither SQLite nor a generic PostgreSQL plan
// can prove it from bound parameters), so the queries that rely on one include these texts as is.

/** workspaces_running_cull_at: the workspaces the idle culler may have to stop. */
export const RUNNING_WITH_DEADLINE = "status = 'RUNNING' and cull_at is not null";

/** workspaces_scheduled: the workspaces with a schedule, which the scheduler reads each pass. */
export const SCHEDULED = 'scheduled = 1';

/** operations_open: operations not yet settled. */
export const OPEN_OPERATION = "state in ('pending', 'running')";
