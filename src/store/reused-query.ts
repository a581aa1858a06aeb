// Queries whose SQL text does not depend on their arguments, built and compiled by Kysely once per
// dialect; each run only binds the arguments. Building and compiling a Kysely query costs more than
// SQLite takes to answer a point lookup (see docs/performance.md). Nothing is kept but SQL text and
// where each argument goes, so it is the same for every replica and inside transactions.
import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';
import type { Database, SqlDialect } from './schema.js';

type Build<Args extends unknown[], Row> = (db: Kysely<Database>, ...args: Args) => Compilable<Row>;

interface Compiled<Row> {
  query: CompiledQuery<Row>;
  /** For each bound parameter: the index of the argument it is, or the constant the builder wrote. */
  slots: ({ arg: number } | { value: unknown })[];
}

/** Stands for argument `index` while the query is compiled, so that its parameters can be told apart. */
class Slot {
  constructor(readonly index: number) {}
}

/**
 * `build` must pass each argument to Kysely as one value (no arrays for `in`, no conversion): the
 * first run compiles it with a stand-in per argument and notes where each one landed.
 */
export function reusedQuery<Args extends unknown[], Row>(build: Build<Args, Row>) {
  const compiled = new Map<SqlDialect, Compiled<Row>>();
  return async (db: Kysely<Database>, dialect: SqlDialect, ...args: Args): Promise<QueryResult<Row>> => {
    // Kysely leaves out a column set to undefined; bound here it would fail or mean something else.
    if (args.includes(undefined)) throw new TypeError('reusedQuery: an argument is undefined (bind null for NULL)');
    let entry = compiled.get(dialect);
    if (entry === undefined) {
      const query = build(db, ...(args.map((_, i) => new Slot(i)) as Args)).compile();
      const slots = query.parameters.map((p) => (p instanceof Slot ? { arg: p.index } : { value: p }));
      const used = new Set(slots.flatMap((s) => ('arg' in s ? [s.arg] : [])));
      if (used.size !== args.length) throw new Error(`reusedQuery: ${args.length - used.size} argument(s) not bound as plain values in: ${query.sql}`);
      entry = { query, slots };
      compiled.set(dialect, entry);
    }
    const parameters = entry.slots.map((s) => ('arg' in s ? args[s.arg] : s.value));
    return db.executeQuery<Row>({ ...entry.query, parameters });
  };
}
