// A Kysely dialect whose connections run a hook after each query, before the store sees the result:
// to commit another replica's write between two statements of one store call.
import type { CompiledQuery, DatabaseConnection, Dialect, QueryResult } from 'kysely';
import type { WorkspaceRecord } from '../../src/core/types.js';
import type { Store } from '../../src/store/index.js';
import { operation } from '../store/fixtures.js';

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

/**
 * What PUT resume does on another replica (`other`: the workspace asked to run and its operation, in
 * one transaction), committed right after the next statement that reads the operations table; then `after`.
 */
export function resumeAfterNextOperationsRead(hook: QueryHook, other: Store, stopped: WorkspaceRecord, operationId: string, after?: () => void): void {
  hook.after = async (sql) => {
    if (!/from "operations"/.test(sql)) return;
    hook.after = undefined;
    await other.transaction(async (tx) => {
      await tx.replaceWorkspace({ ...stopped, desired_state: 'running', resource_version: stopped.resource_version + 1 }, stopped.resource_version);
      await tx.insertOperation(operation(operationId, stopped.name));
    });
    after?.();
  };
}
