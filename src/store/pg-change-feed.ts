// Carries the change feed between replicas on one PostgreSQL: every change this process commits is
// sent with NOTIFY, and what the other replicas send is published on this process's feed, so that a
// write on any replica wakes the leader's reconciler, answers a request waiting on another replica,
// and reaches every replica's event streams. The channel is named after the schema, as schemas of
// one database are separate installations. NOTIFY is not stored: after the listening connection was
// lost, a catch-up read publishes what may have been missed (open and recently finished operations,
// every workspace), before new notifications are trusted again. The same holds the other way round: a
// change this process committed but could not send (its listening connection was down, or the NOTIFY
// failed) is not lost on the others, who never lost their connection and would not catch up by
// themselves. Once this process can send again it asks them to catch up.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { OperationRecord } from '../core/types.js';
import type { ChangeFeed } from './change-feed.js';
import type { OperationPatch, Store, StoreChange } from './store.js';

/** PostgreSQL refuses payloads of 8000 bytes or more; a bigger change is sent as a reference to read. */
const MAX_PAYLOAD = 7_500;
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 5_000;

/** How much earlier than the sender's first unsent change a catch-up looks for finished operations (other clocks). */
const CLOCK_SKEW_MS = 60_000;

/**
 * What crosses the channel: a change, which operation to read because the change was too big, or a
 * request to catch up on what the sender committed since `since` (its clock) but could not send.
 */
type Wire =
  | { from: string; change: StoreChange }
  | { from: string; operation: string; inserted: boolean }
  | { from: string; catchUpSince: string };

export interface RelayLogger {
  warn(obj: object, msg: string): void;
}

export interface PgChangeRelayOptions {
  databaseUrl: string;
  feed: ChangeFeed;
  /** Reads for references and catch-up. */
  store: Pick<Store, 'getOperation' | 'listOpenOperations' | 'listWorkspaceNames'>;
  logger?: RelayLogger;
}

/** The whole record as a patch, for a change that arrives as a reference. */
function fullPatch(op: OperationRecord): OperationPatch {
  return { state: op.state, error: op.error ?? null, attempts: op.attempts, details: op.details, started_at: op.started_at, finished_at: op.finished_at };
}

export class PgChangeRelay {
  /** Tells our own notifications (which PostgreSQL also delivers to us) from the others'. */
  private readonly origin = randomBytes(8).toString('hex');
  private client: pg.Client | undefined;
  private channel = '';
  private closed = false;
  /** Notifications are sent in commit order through one chain. */
  private sending: Promise<void> = Promise.resolve();
  private lostAt: string | undefined;
  /** When this process first committed a change it could not send, while the others are yet to be asked to catch up. */
  private unsentSince: string | undefined;

  private constructor(private readonly options: PgChangeRelayOptions) {
    options.feed.relayTo((change) => this.send(change));
  }

  static async start(options: PgChangeRelayOptions): Promise<PgChangeRelay> {
    const relay = new PgChangeRelay(options);
    await relay.connect();
    return relay;
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.databaseUrl });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, new Error('the connection ended')));
    client.on('notification', (message) => {
      if (message.channel !== this.channel || !message.payload) return;
      // What a notification makes this process read may fail (the database in trouble): a lost wake-up, never a crash.
      this.received(message.payload).catch((err: unknown) => this.options.logger?.warn({ err }, 'could not read what another replica notified'));
    });
    await client.connect();
    const { rows } = await client.query<{ schema: string }>('select current_schema() as schema');
    this.channel = `wsm_changes_${rows[0]?.schema ?? 'public'}`.slice(0, 63);
    await client.query(`listen ${client.escapeIdentifier(this.channel)}`);
    this.client = client;
  }

  private lost(client: pg.Client, err: Error): void {
    if (this.closed || this.client !== client) return;
    this.client = undefined;
    this.lostAt ??= new Date().toISOString();
    this.options.logger?.warn({ err }, 'the change feed connection to PostgreSQL was lost; reconnecting');
    void client.end().catch(() => {});
    void this.reconnect();
  }

  private async reconnect(): Promise<void> {
    let delay = RECONNECT_MIN_MS;
    while (!this.closed) {
      await new Promise((resolve) => setTimeout(resolve, delay).unref());
      if (this.closed) return;
      try {
        await this.connect();
        await this.catchUp(this.lostAt);
        this.lostAt = undefined;
        this.sending = this.sending.then(() => this.deliver());
        return;
      } catch (err) {
        this.options.logger?.warn({ err }, 'the change feed could not reconnect to PostgreSQL; trying again');
        this.client?.end().catch(() => {});
        this.client = undefined;
        delay = Math.min(delay * 2, RECONNECT_MAX_MS);
      }
    }
  }

  /** What could have been missed while not listening, published as if just heard. */
  private async catchUp(since: string | undefined): Promise<void> {
    const store = this.options.store;
    const ops = [...(await store.listOpenOperations())];
    const client = this.client;
    if (since !== undefined && client) {
      const { rows } = await client.query<{ id: string }>('select id from operations where finished_at >= $1', [since]);
      for (const { id } of rows) {
        const op = await store.getOperation(id);
        if (op) ops.push(op);
      }
    }
    const names = await store.listWorkspaceNames();
    this.inject(names.map((name): StoreChange => ({ kind: 'workspace', name, write: 'desired' })));
    this.inject(ops.map((op): StoreChange => ({ kind: 'operation-updated', id: op.id, patch: fullPatch(op) })));
  }

  private send(change: StoreChange): void {
    let payload = JSON.stringify({ from: this.origin, change } satisfies Wire);
    if (Buffer.byteLength(payload) > MAX_PAYLOAD) {
      if (change.kind === 'workspace') return; // names are short: cannot happen
      const operation = change.kind === 'operation-inserted' ? change.operation.id : change.id;
      payload = JSON.stringify({ from: this.origin, operation, inserted: change.kind === 'operation-inserted' } satisfies Wire);
    }
    this.sending = this.sending.then(() => this.deliver(payload));
  }

  /**
   * Sends `payload`, after asking the others to catch up if anything before it went unsent. A payload
   * that cannot be sent now is not kept: the request to catch up stands for it, sent at the next
   * chance (the next change, or the reconnection).
   */
  private async deliver(payload?: string): Promise<void> {
    if (this.unsentSince !== undefined) {
      const ask = JSON.stringify({ from: this.origin, catchUpSince: this.unsentSince } satisfies Wire);
      if (await this.notify(ask)) this.unsentSince = undefined;
    }
    if (payload !== undefined && !(await this.notify(payload))) this.unsentSince ??= new Date().toISOString();
  }

  private async notify(payload: string): Promise<boolean> {
    const client = this.client;
    if (!client) return false;
    try {
      await client.query('select pg_notify($1, $2)', [this.channel, payload]);
      return true;
    } catch (err) {
      this.options.logger?.warn({ err }, 'a change could not be sent to the other replicas; they are asked to catch up once it can');
      return false;
    }
  }

  private async received(payload: string): Promise<void> {
    let wire: Wire;
    try {
      wire = JSON.parse(payload) as Wire;
    } catch {
      return;
    }
    if (wire.from === this.origin) return;
    if ('change' in wire) {
      this.inject([wire.change]);
      return;
    }
    if ('catchUpSince' in wire) {
      const since = new Date(Date.parse(wire.catchUpSince) - CLOCK_SKEW_MS).toISOString();
      await this.catchUp(since);
      return;
    }
    const op = await this.options.store.getOperation(wire.operation);
    if (!op) return;
    this.inject([wire.inserted ? { kind: 'operation-inserted', operation: op } : { kind: 'operation-updated', id: op.id, patch: fullPatch(op) }]);
  }

  private inject(changes: StoreChange[]): void {
    for (const change of changes) this.options.feed.publishReceived(change);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.options.feed.relayTo(undefined);
    await this.sending;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }
}
