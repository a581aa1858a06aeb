// One client of /api/events. It reads the shared event log at its own pace: events are written
// only while the client's buffer (what Node holds for its socket) is under a bound, and the rest
// waits in the log until the socket drains. A client falls behind, and is disconnected, when its
// buffer stays full with no byte taken for a while, or when the events it still needs have left the
// log's window; it reconnects with Last-Event-ID and gets what it missed, or is told to reload.
// Before events are written the token is checked again, and each event is filtered by what the
// token may see at that moment; a token that is revoked or has expired ends the stream.
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Role } from '../core/types.js';
import { WsmError } from '../core/errors.js';
import { roleAtLeast, roleOn, type Principal } from './auth.js';
import { errorBody } from './errors.js';
import type { EventLog, LoggedEvent } from './event-log.js';

export interface StreamSettings {
  /** A client's buffer: past it, nothing more is written until its socket drains. */
  bufferBytes: number;
  heartbeatMs: number;
  /** How often the token is checked again while no events come, and the buffer looked at. */
  reverifyMs: number;
  /** A client whose full buffer has not shrunk for this long is disconnected. */
  stallMs: number;
}

/** The token still valid, as the stream's principal now; throws a WsmError when it no longer is. */
export type Verify = () => Promise<Principal>;

const ACCESS = new Map<Role | undefined, Buffer>();
function accessBytes(access: Role | undefined): Buffer {
  let bytes = ACCESS.get(access);
  if (!bytes) ACCESS.set(access, (bytes = Buffer.from(JSON.stringify(access ?? null))));
  return bytes;
}

/** How long a stream that was ended may take to flush its last words before its socket is closed. */
const END_GRACE_MS = 2_000;

export class EventStream {
  /** Nothing more is written. */
  private ended = false;
  /** The response is closed and onClose was called. */
  private closed = false;
  private pumping = false;
  private again = false;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly unsubscribe: () => void;
  private readonly socket: Socket | null;
  /** Since when the buffer has been full without shrinking, and how full it was then. */
  private stalledSince: number | undefined;
  private stalledLength = 0;

  constructor(
    private readonly res: ServerResponse,
    private readonly log: EventLog,
    /** The seq of the last event this client has (or, filtered out, has no right to). */
    private cursor: number,
    private readonly verify: Verify,
    private readonly settings: StreamSettings,
    private readonly onClose: () => void,
  ) {
    this.socket = res.socket;
    this.unsubscribe = log.subscribe(this.pump);
    this.socket?.on('drain', this.pump);
    res.on('close', this.cleanup);
    res.on('error', this.cleanup);
    this.timers.push(setInterval(this.heartbeat, settings.heartbeatMs), setInterval(this.check, settings.reverifyMs));
    // The client may have left while the request was being authenticated: no 'close' would follow.
    if (!this.socket || this.socket.destroyed) queueMicrotask(this.cleanup);
  }

  /** The first bytes: a retry delay, the client's position, and, if it cannot resume, a reset. */
  start(resetReason?: string): void {
    // An event with only an id sets the client's Last-Event-ID without dispatching anything, so a
    // client that leaves before any event can still resume from here.
    this.res.write(`: connected\nretry: 2000\nid: ${this.log.idOf(this.cursor)}\n\n`);
    if (resetReason !== undefined) {
      this.res.write(`id: ${this.log.idOf(this.cursor)}\nevent: reset\ndata: ${JSON.stringify({ reason: resetReason })}\n\n`);
    }
    this.pump();
  }

  /** Ends the stream as the server shuts down. */
  close(): void {
    this.finish();
  }

  private full(): boolean {
    return this.res.writableLength >= this.settings.bufferBytes;
  }

  private readonly pump = (): void => {
    if (this.ended) return;
    if (!this.log.covers(this.cursor)) return this.disconnectSlow();
    if (this.pumping) {
      this.again = true;
      return;
    }
    if (this.cursor >= this.log.latestSeq || this.full()) return;
    this.pumping = true;
    void this.deliver().finally(() => {
      this.pumping = false;
      if (this.again) {
        this.again = false;
        this.pump();
      }
    });
  };

  private async deliver(): Promise<void> {
    let principal: Principal;
    try {
      // Cheap: the authenticator keeps each token's lookup for a few seconds, shared by all its
      // streams, and drops it the moment any token or grant is changed in this process (revoking
      // included). So a revocation is seen by the very next event, while a busy stream costs the
      // store at most one lookup per token every few seconds, not one per event per client.
      principal = await this.verify();
    } catch (err) {
      return this.endForAuth(err);
    }
    if (this.ended) return;
    // Synchronous from here: the check above still holds for every event written below.
    this.res.cork();
    try {
      while (this.cursor < this.log.latestSeq && !this.full()) {
        const event = this.log.after(this.cursor);
        if (!event) return this.disconnectSlow();
        this.cursor = event.seq;
        const access = roleOn(principal, event.workspace);
        if (roleAtLeast(access, 'viewer')) this.write(event, access);
      }
    } finally {
      if (!this.ended) this.res.uncork();
    }
  }

  private write(event: LoggedEvent, access: Role | undefined): void {
    this.res.write(event.head);
    if (event.tail) {
      this.res.write(accessBytes(access));
      this.res.write(event.tail);
    }
  }

  private readonly heartbeat = (): void => {
    if (!this.ended && !this.full()) this.res.write(': heartbeat\n\n');
  };

  private readonly check = (): void => {
    if (this.ended) return;
    this.verify().catch((err: unknown) => this.endForAuth(err));
    if (!this.full()) {
      this.stalledSince = undefined;
      return;
    }
    // Nothing is written while the buffer is full, so a shorter buffer means the client read.
    const length = this.res.writableLength;
    if (this.stalledSince === undefined || length < this.stalledLength) {
      this.stalledSince = Date.now();
      this.stalledLength = length;
    } else if (Date.now() - this.stalledSince >= this.settings.stallMs) {
      this.disconnectSlow();
    }
  };

  private endForAuth(err: unknown): void {
    if (this.ended) return;
    const error = err instanceof WsmError ? err : new WsmError('invalid_oauth_token', 'The token is no longer valid.');
    this.finish(`event: auth\ndata: ${JSON.stringify(errorBody(error))}\n\n`);
  }

  /** Ends the response after `last`, and closes the socket once that is flushed (or soon anyway). */
  private finish(last?: string): void {
    if (this.ended) return;
    this.ended = true;
    this.detach();
    const socket = this.socket;
    // A client that reads nothing would hold the socket and its buffer open forever.
    const grace = setTimeout(() => socket?.destroy(), END_GRACE_MS);
    grace.unref();
    this.res.on('finish', () => socket?.destroySoon());
    if (last !== undefined && !this.full()) this.res.end(last);
    else this.res.end();
  }

  /** Fallen behind. Reset at once, so the kernel drops what it buffered for the client too. */
  private disconnectSlow(): void {
    if (this.ended) return;
    this.ended = true;
    this.detach();
    if (this.socket && typeof this.socket.resetAndDestroy === 'function') this.socket.resetAndDestroy();
    else this.res.destroy();
  }

  private detach(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.unsubscribe();
    this.socket?.off('drain', this.pump);
  }

  private readonly cleanup = (): void => {
    if (this.closed) return;
    this.closed = true;
    this.ended = true;
    this.detach();
    this.onClose();
  };
}
