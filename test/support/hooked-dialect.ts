// A Kysely dialect whose connections run a hook after each query, before the store sees the result:
// to commit another replica's write between two statements of one store call.
import type { CompiledQuery, DatabaseConnection, Dialect, QueryResult } from 'kysely';

export interface QueryHook {
  /** Awaited after each query the store runs (its SQL text), while the store waits for the result. */
  after?: (sql: string) => Promise<void>;
}

export function hookedDialect(inner: Dialect, hook: QueryHook): Dialect {
  const patched = new WeakSet<DatabaseConnection>();
  return {
    createAdapter: () => inner.createAdapter(),
    createIntrospector: (db) => inner.createIntrospector(db),
    createQueryCompiler: () => inner.createQueryCompiler(),
    createDriver: () => {
      const driver = inner.createDriver();
      const acquire = driver.acquireConnection.bind(driver);
      // The driver's own connection object, patched in place: drivers release it by what it is.
      driver.acquireConnection = async () => {
        const connection = await acquire();
        if (!patched.has(connection)) {
          patched.add(connection);
          const execute = connection.executeQuery.bind(connection);
          connection.executeQuery = async <R>(query: CompiledQuery): Promise<QueryResult<R>> => {
            const result = await execute<R>(query);
            await hook.after?.(query.sql);
            return result;
          };
        }
        return connection;
      };
      return driver;
    },
  };
}
