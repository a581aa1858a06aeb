// Group commit for SQLite's one connection. Every commit writes each page it touched to the log, and
// the requests in flight touch many of the same pages (the newest operations and audit rows, their
// indexes): a commit per request wrote those pages once per request. Transactions that queue while
// one runs now share its commit: each runs in a savepoint of one physical transaction (its failure
// rolls back only its own writes), and all are answered once that commits.
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

/** Bounds how long the first of a group waits for the others' work before its commit. */
const MAX_GROUP = 16;

interface Queued {
  fn: (db: Kysely<Database>) => Promise<unknown>;
  /** Told, in the order the transactions ran, once theirs is committed and before anything else runs. */
  committed: (() => void) | undefined;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export class GroupCommitter {
  private readonly queued: Queued[] = [];
  private draining = false;

  constructor(private readonly db: Kysely<Database>) {}

  run<T>(fn: (db: Kysely<Database>) => Promise<T>, committed?: () => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queued.push({ fn, committed, resolve: resolve as (value: unknown) => void, reject });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queued.length > 0) await this.db.connection().execute((connection) => this.commitGroup(connection));
    } catch (error) {
      // The connection could not be had (the store is closing): nobody queued may wait forever.
      for (const job of this.queued.splice(0)) job.reject(error);
    } finally {
      this.draining = false;
    }
  }

  private async commitGroup(connection: Kysely<Database>): Promise<void> {
    const done: { job: Queued; result: unknown }[] = [];
    try {
      await sql`begin`.execute(connection);
    } catch (error) {
      for (const job of this.queued.splice(0)) job.reject(error);
      return;
    }
    while (this.queued.length > 0 && done.length < MAX_GROUP) {
      const job = this.queued.shift()!;
      // The first needs no savepoint: failing, it rolls back the transaction, which holds only its writes.
      const first = done.length === 0;
      if (!first) await sql`savepoint wsm_group`.execute(connection);
      try {
        const result = await job.fn(connection);
        if (!first) await sql`release wsm_group`.execute(connection);
        done.push({ job, result });
      } catch (error) {
        if (first) {
          await sql`rollback`.execute(connection).catch(() => {});
          job.reject(error);
          return; // the next group begins afresh
        }
        job.reject(error);
        try {
          await sql`rollback to wsm_group`.execute(connection);
          await sql`release wsm_group`.execute(connection);
        } catch (lost) {
          // SQLite rolled the whole transaction back itself (a full disk, an I/O error): the
          // group's earlier work is gone with it.
          for (const { job: earlier } of done) earlier.reject(lost);
          await sql`rollback`.execute(connection).catch(() => {});
          return;
        }
      }
    }
    try {
      await sql`commit`.execute(connection);
    } catch (error) {
      await sql`rollback`.execute(connection).catch(() => {});
      for (const { job } of done) job.reject(error);
      return;
    }
    // Still holding the connection: no statement has run since the commit.
    for (const { job } of done) job.committed?.();
    for (const { job, result } of done) job.resolve(result);
  }
}
