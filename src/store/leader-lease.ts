// The leader's lease: one row in PostgreSQL that names the replica allowed to drive the runtimes, until
// when, and in which term. Expiry is judged by the database's clock only (now()), so replicas whose
// clocks disagree still agree on who holds it. A lease row (rather than a session advisory lock) gives
// a term number to fence with, survives a connection pooler in transaction mode, and lets a replica
// that lost its connection know when another may have taken over (the expiry), instead of learning it
// only when its session is found dead. The table is made by the store's migrations (0007).
import type pg from 'pg';
import { resilientPool } from './pg-pool.js';

/** What a successful acquire or renewal says. */
export interface LeaseGrant {
  term: number;
}

export interface LeaseHolder {
  /** Takes the lease when free or expired, or extends ours; undefined when another replica holds it. */
  acquireOrRenew(holder: string, leaseMs: number): Promise<LeaseGrant | undefined>;
  /** Whether `holder` still holds `term` with at least `marginMs` left, by the database's clock. */
  holds(holder: string, term: number, marginMs: number): Promise<boolean>;
  /** Ends our lease now, so another replica need not wait for it to expire (a clean shutdown). */
  release(holder: string, term: number): Promise<void>;
  /** Who holds the lease now (undefined when nobody or it has expired). */
  current(): Promise<{ holder: string; term: number } | undefined>;
  close(): Promise<void>;
}

/** The one lease wsm elects with; a name column leaves room for more. */
const LEASE = 'controller';

export class PostgresLease implements LeaseHolder {
  private readonly pool: pg.Pool;

  constructor(databaseUrl: string, onIdleError: (err: Error) => void = () => {}) {
    // Its own small pool: a renewal must never queue behind a burst of request queries.
    this.pool = resilientPool(databaseUrl, 2, onIdleError);
  }

  async acquireOrRenew(holder: string, leaseMs: number): Promise<LeaseGrant | undefined> {
    // Our own unexpired lease keeps its term; any other take (free, expired, or ours after it lapsed)
    // starts a new term, so whatever was done under the old one can be told from what follows.
    const { rows } = await this.pool.query<{ term: string }>(
      `insert into wsm_leader_lease as l (name, holder, term, expires_at)
         values ($1, $2, 1, now() + $3 * interval '1 millisecond')
       on conflict (name) do update set
         holder = excluded.holder,
         term = case when l.holder = excluded.holder and l.expires_at > now() then l.term else l.term + 1 end,
         expires_at = excluded.expires_at
       where l.holder = excluded.holder or l.expires_at <= now()
       returning term`,
      [LEASE, holder, leaseMs],
    );
    const row = rows[0];
    return row ? { term: Number(row.term) } : undefined;
  }

  async holds(holder: string, term: number, marginMs: number): Promise<boolean> {
    const { rows } = await this.pool.query(
      `select 1 from wsm_leader_lease
        where name = $1 and holder = $2 and term = $3 and expires_at > now() + $4 * interval '1 millisecond'`,
      [LEASE, holder, term, marginMs],
    );
    return rows.length > 0;
  }

  async release(holder: string, term: number): Promise<void> {
    await this.pool.query(`update wsm_leader_lease set expires_at = now() where name = $1 and holder = $2 and term = $3`, [LEASE, holder, term]);
  }

  async current(): Promise<{ holder: string; term: number } | undefined> {
    const { rows } = await this.pool.query<{ holder: string; term: string }>(
      `select holder, term from wsm_leader_lease where name = $1 and expires_at > now()`,
      [LEASE],
    );
    const row = rows[0];
    return row ? { holder: row.holder, term: Number(row.term) } : undefined;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
