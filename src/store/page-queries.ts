// The queries of a page of workspaces (its count, then its rows or their versions), compiled once per
// shape of filter: which filters are set, how many values each lists, the limit and the offset (both
// written into the SQL text; SQLite plans a bound LIMIT on every run). Each run binds the values.
import { sql, type Kysely } from 'kysely';
import { reusedQuery } from './reused-query.js';
import type { Database, SqlDialect, WorkspaceRow } from './schema.js';
import type { WorkspaceFilter } from './store.js';

/** Distinct shapes kept; past it they are compiled afresh (a scoped token's grants make a shape per count). */
const SHAPES_KEPT = 256;

/** Escapes LIKE's wildcards so a search for "a_b" matches only that text. */
function likePattern(search: string): string {
  return `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * A LIMIT or OFFSET written into the SQL text. It must then be a plain non-negative integer (the API
 * bounds the values; this guards the SQL).
 */
export function sqlCount(field: string, value: number) {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${field} must be a non-negative integer, got ${value}`);
  return sql.lit(value);
}

interface Shape {
  names: number | undefined;
  clusterType: boolean;
  statuses: number;
  namespaces: number;
  search: boolean;
  dormant: boolean | undefined;
  limit: number;
  offset: number;
}

function pageQueries(dialect: SqlDialect, shape: Shape, columns: readonly (keyof WorkspaceRow)[]) {
  const filtered = (db: Kysely<Database>, values: unknown[]) => {
    let at = 0;
    const take = (n: number) => values.slice(at, (at += n)) as string[];
    let q = db.selectFrom('workspaces');
    if (shape.names !== undefined) q = q.where('name', 'in', take(shape.names));
    if (shape.clusterType) q = q.where('cluster_type', '=', take(1)[0]!);
    if (shape.statuses > 0) q = q.where('status', 'in', take(shape.statuses));
    if (shape.namespaces > 0) q = q.where('namespace', 'in', take(shape.namespaces));
    if (shape.search) {
      // SQLite's LIKE already ignores ASCII case; PostgreSQL needs ILIKE.
      const op = sql.raw(dialect === 'postgres' ? 'ilike' : 'like');
      q = q.where(sql<boolean>`${sql.ref('name')} ${op} ${take(1)[0]} escape '\\'`);
    }
    if (shape.dormant !== undefined) {
      const [iso, ms] = values.slice(at, (at += 2)) as [string, number];
      // As core/dormancy.ts says: left stopped, and neither changed nor active since the cut-off.
      const dormant = sql<boolean>`(desired_state = 'stopped' and status = 'STOPPED' and deletion is null and updated_at < ${iso} and (last_activity_ms is null or last_activity_ms < ${ms}))`;
      q = q.where(shape.dormant ? dormant : sql<boolean>`not ${dormant}`);
    }
    return q;
  };
  // The page's names are found from the indexes alone, so a deep OFFSET never sorts full rows.
  const pageNames = (db: Kysely<Database>, values: unknown[]) =>
    filtered(db, values).select('name').orderBy('name').limit(sqlCount('limit', shape.limit)).offset(sqlCount('offset', shape.offset));
  return {
    count: reusedQuery((db, ...values: unknown[]) => filtered(db, values).select((eb) => eb.fn.countAll().as('n'))),
    versions: reusedQuery((db, ...values: unknown[]) =>
      db.selectFrom('workspaces').select(['name', 'uid', 'revision']).where('name', 'in', pageNames(db, values)).orderBy('name'),
    ),
    rows: reusedQuery((db, ...values: unknown[]) => db.selectFrom('workspaces').select(columns).where('name', 'in', pageNames(db, values)).orderBy('name')),
  };
}

const kept = new Map<string, ReturnType<typeof pageQueries>>();

/** The page's queries and the values they bind, in order. */
export function pageQueriesFor(dialect: SqlDialect, filter: WorkspaceFilter, columns: readonly (keyof WorkspaceRow)[]) {
  const statuses = filter.status ?? [];
  const namespaces = filter.namespace ?? [];
  const search = filter.search !== undefined && filter.search !== '' ? likePattern(filter.search) : undefined;
  const shape: Shape = {
    names: filter.names?.length,
    clusterType: filter.cluster_type !== undefined,
    statuses: statuses.length,
    namespaces: namespaces.length,
    search: search !== undefined,
    dormant: filter.dormant?.dormant,
    limit: filter.limit,
    offset: filter.offset,
  };
  const values = [...(filter.names ?? []), ...(filter.cluster_type !== undefined ? [filter.cluster_type] : []), ...statuses, ...namespaces, ...(search !== undefined ? [search] : []), ...(filter.dormant ? [new Date(filter.dormant.cutoff).toISOString(), filter.dormant.cutoff] : [])];
  const key = JSON.stringify([dialect, columns.length, shape]);
  let queries = kept.get(key);
  if (queries === undefined) {
    queries = pageQueries(dialect, shape, columns);
    if (kept.size >= SHAPES_KEPT) kept.clear();
    kept.set(key, queries);
  }
  return { ...queries, values };
}
