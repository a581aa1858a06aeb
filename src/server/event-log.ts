// The events /api/events sends, recorded once for every listener: each change of a workspace or an
// operation is read from the store and rendered once, given the next id of one ordered sequence, and
// kept in a bounded window so that a client coming back with Last-Event-ID gets what it missed.
// Streams read from this log at their own pace; the log never holds more than its window, however
// many clients there are and however slowly they read. The changes come from the store's change feed,
// which publishes only what has committed.
import { randomBytes } from 'node:crypto';
import type { OperationRecord, WorkspaceRecord } from '../core/types.js';
import type { StoreChange } from '../store/change-feed.js';
import type { Store } from '../store/store.js';
import { presentOperation, presentWorkspace } from './presenter.js';
import type { DormancySettings } from '../core/dormancy.js';

export interface EventLogLimits {
  /** At most this many events are kept for replay. */
  maxEvents: number;
  /** At most this many bytes of events are kept for replay (the newest event is kept whatever its size). */
  maxBytes: number;
  /** Recording goes on this long after the last stream closed, so a reconnect can still resume. */
  lingerMs: number;
}

export const DEFAULT_EVENT_LOG_LIMITS: EventLogLimits = {
  maxEvents: 1_000,
  maxBytes: 16 * 1024 * 1024,
  lingerMs: 60_000,
};

export type EventName = 'workspace' | 'deleted' | 'operation';

/**
 * One rendered event. A workspace carries the reader's access in its JSON, so its bytes are cut
 * there: a stream writes `head`, the access of its own token, then `tail`. Everything else is `head`.
 */
export interface LoggedEvent {
  seq: number;
  workspace: string;
  event: EventName;
  head: Buffer;
  tail?: Buffer;
  bytes: number;
}

/** Where a reconnecting client resumes: after `seq`, or from scratch (`reset`) when that is unknown. */
export type Resume = { seq: number } | { reset: string };

const ACCESS_NULL = Buffer.from('"access":null');
const ACCESS_KEY_LENGTH = '"access":'.length;
const BLANK_LINE = Buffer.from('\n\n');

function operationJson(op: OperationRecord): Buffer {
  // The uid tells the console an operation of this workspace from one of an earlier workspace of its name.
  return Buffer.from(JSON.stringify({ ...presentOperation(op), workspace: op.workspace, workspace_uid: op.workspace_uid ?? null }));
}

export class EventLog {
  /** Ids carry the server's boot so that an id from an earlier run is never taken for one of ours. */
  private readonly boot = randomBytes(4).toString('hex');
  private readonly entries: LoggedEvent[] = [];
  private bytes = 0;
  private lastSeq = 0;
  /** A client whose last id is at or above this can be served from the window; below it, reset. */
  private resumableFrom = 0;
  private readonly listeners = new Set<() => void>();
  private holders = 0;
  private recording = false;
  private lingerTimer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  /** Workspaces whose read is queued and not started: one read will see every change made before it. */
  private readonly queuedReads = new Set<string>();
  /** The same for operations whose update is to be read. */
  private readonly queuedOperationReads = new Set<string>();
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly store: Pick<Store, 'changes' | 'getWorkspace' | 'listWorkspaceOperations' | 'getOperation' | 'getClusterSettings'>,
    private readonly limits: EventLogLimits = DEFAULT_EVENT_LOG_LIMITS,
    private readonly onError: (err: unknown) => void = () => {},
    /** Each workspace's proxy_url; undefined when the proxy is off. */
    private readonly proxyUrlOf?: (name: string) => string,
  ) {}

  get latestSeq(): number {
    return this.lastSeq;
  }

  /** The oldest seq still needed by a stream positioned at `cursor`: below the window means it fell behind. */
  covers(cursor: number): boolean {
    return cursor >= this.resumableFrom;
  }

  /** The event after `cursor`, if it is still in the window. */
  after(cursor: number): LoggedEvent | undefined {
    const first = this.entries[0];
    if (!first) return undefined;
    return this.entries[cursor + 1 - first.seq];
  }

  idOf(seq: number): string {
    return `${this.boot}-${seq}`;
  }

  /** Where a client that last saw `lastEventId` resumes. */
  resume(lastEventId: string | undefined): Resume {
    if (lastEventId === undefined || lastEventId === '') return { seq: this.lastSeq };
    const match = /^([0-9a-f]{8})-(\d{1,15})$/.exec(lastEventId);
    if (!match) return { reset: 'The Last-Event-ID is not one this server gives; reload.' };
    const seq = Number(match[2]);
    if (match[1] !== this.boot || seq > this.lastSeq) return { reset: 'The server restarted since that event; reload.' };
    if (!this.covers(seq)) return { reset: 'Events after that one are no longer kept; reload.' };
    return { seq };
  }

  /** Called with no arguments after each new event. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * A stream needs the log recorded. Recording costs a store read and a rendering per change, so it
   * runs only while someone listens (and for a while after, for reconnects).
   */
  retain(): void {
    this.holders += 1;
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    if (this.recording) return;
    this.recording = true;
    // Changes made while nothing was recorded have no ids: skip one id, so that no id given out
    // before the pause can resume across it.
    this.lastSeq += 1;
    this.resumableFrom = this.lastSeq;
    this.unsubscribe = this.store.changes.subscribe(this.onChange);
  }

  release(): void {
    this.holders -= 1;
    if (this.holders > 0 || !this.recording) return;
    this.lingerTimer = setTimeout(() => this.stopRecording(), this.limits.lingerMs);
    this.lingerTimer.unref();
  }

  close(): void {
    clearTimeout(this.lingerTimer);
    this.stopRecording();
    this.listeners.clear();
  }

  private stopRecording(): void {
    this.lingerTimer = undefined;
    if (!this.recording) return;
    this.recording = false;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.entries.length = 0;
    this.bytes = 0;
    this.queuedReads.clear();
    this.queuedOperationReads.clear();
  }

  // Store reads finish out of order; a chain keeps events in the order the store committed them.
  private enqueue(work: () => Promise<void> | void): void {
    this.chain = this.chain.then(work).catch(this.onError);
  }

  private readonly onChange = (change: StoreChange): void => {
    if (change.kind === 'workspace') {
      // Activity (heartbeats, probes) changes nothing a client is shown.
      if (change.write !== 'activity') this.onWorkspace(change.name);
    } else if (change.kind === 'operation-inserted') {
      this.onOperation(change.operation);
    } else {
      this.onOperationUpdated(change.id);
    }
  };

  private onWorkspace(name: string): void {
    if (this.queuedReads.has(name)) return;
    this.queuedReads.add(name);
    this.enqueue(async () => {
      if (!this.queuedReads.delete(name)) return; // recording stopped meanwhile
      const ws = await this.store.getWorkspace(name);
      if (!ws) return this.append(name, 'deleted', [Buffer.from(JSON.stringify({ name }))]);
      const [lastOperation] = await this.store.listWorkspaceOperations(ws.uid, 1);
      this.appendWorkspace(ws, lastOperation, await this.store.getClusterSettings());
    });
  }

  private onOperation(op: OperationRecord): void {
    // Rendered now: the record is as it was inserted, whatever comes after.
    const json = operationJson(op);
    this.enqueue(() => this.append(op.workspace, 'operation', [json]));
  }

  /** An update says only which fields changed: the operation is read whole, as for a workspace. */
  private onOperationUpdated(id: string): void {
    if (this.queuedOperationReads.has(id)) return;
    this.queuedOperationReads.add(id);
    this.enqueue(async () => {
      if (!this.queuedOperationReads.delete(id)) return; // recording stopped meanwhile
      const op = await this.store.getOperation(id);
      if (op) this.append(op.workspace, 'operation', [operationJson(op)]);
    });
  }

  private appendWorkspace(ws: WorkspaceRecord, lastOperation: OperationRecord | undefined, dormancy: DormancySettings): void {
    const json = Buffer.from(JSON.stringify(presentWorkspace(ws, { lastOperation, proxyUrlOf: this.proxyUrlOf, dormancy })));
    // The first `"access":null` is the workspace's own: it comes right after name, cluster_type, url,
    // repo_path and success, and inside a JSON string a quote is always escaped.
    const at = json.indexOf(ACCESS_NULL);
    if (at < 0) throw new Error(`workspace ${ws.name}: rendering has no access field`);
    this.append(ws.name, 'workspace', [json.subarray(0, at + ACCESS_KEY_LENGTH)], json.subarray(at + ACCESS_NULL.length));
  }

  private append(workspace: string, event: EventName, headJson: Buffer[], tailJson?: Buffer): void {
    if (!this.recording) return;
    const seq = ++this.lastSeq;
    const prefix = Buffer.from(`id: ${this.idOf(seq)}\nevent: ${event}\ndata: `);
    const head = Buffer.concat(tailJson ? [prefix, ...headJson] : [prefix, ...headJson, BLANK_LINE]);
    const tail = tailJson && Buffer.concat([tailJson, BLANK_LINE]);
    const entry: LoggedEvent = { seq, workspace, event, head, tail, bytes: head.length + (tail?.length ?? 0) };
    this.entries.push(entry);
    this.bytes += entry.bytes;
    while (this.entries.length > 1 && (this.entries.length > this.limits.maxEvents || this.bytes > this.limits.maxBytes)) {
      const evicted = this.entries.shift()!;
      this.bytes -= evicted.bytes;
      this.resumableFrom = evicted.seq;
    }
    for (const listener of [...this.listeners]) listener();
  }
}
