// A pg pool that survives the server going away (a restart, a failover, a fast shutdown). pg emits the
// server's "terminating connection" as an 'error' event on the connection: on the pool while the
// connection is idle, on the connection itself while it is checked out between queries (inside a
// transaction, say). Either without a listener ends the process. The failure still reaches whoever
// uses the connection (its next query fails and the connection is discarded); the next checkout opens
// a new one.
import pg from 'pg';

export function resilientPool(connectionString: string, max: number, onIdleError: (err: Error) => void): pg.Pool {
  const pool = new pg.Pool({ connectionString, max });
  pool.on('error', onIdleError);
  pool.on('connect', (client) => {
    // Reported by the query that runs on it next; the pool's listener covers it once idle again.
    client.on('error', () => {});
  });
  return pool;
}
