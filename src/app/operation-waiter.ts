// A request waits here for the operation it wrote: until the runtime has taken it (tried it at least
// once) or it has settled, for at most a timeout, or until the caller gives up. It learns of the
// operation's writes from the store's change feed, so the answer needs no read of the store; one
// subscription serves every wait, and a wait leaves nothing behind once it has ended.
import type { OperationRecord } from '../core/types.js';
import type { ChangeSource, OperationPatch, StoreChange } from '../store/store.js';

export interface OperationWait {
  /**
   * Resolves with the record once the runtime has tried the operation or it has settled, or after
   * `timeoutMs` with the record as it then stands; rejects with the signal's reason when aborted.
   */
  wait(timeoutMs: number, signal?: AbortSignal): Promise<OperationRecord>;
  /** Stops listening without waiting (the write of the operation failed). */
  cancel(): void;
}

interface Watched {
  record: OperationRecord;
  changed: () => void;
}

/** The record as it stands after the patch was written (error: null removed the error). */
export function withPatch(op: OperationRecord, patch: OperationPatch): OperationRecord {
  const next: OperationRecord = { ...op };
  if (patch.state !== undefined) next.state = patch.state;
  if (patch.error === null) delete next.error;
  else if (patch.error !== undefined) next.error = patch.error;
  if (patch.attempts !== undefined) next.attempts = patch.attempts;
  if (patch.details !== undefined) next.details = patch.details;
  if (patch.started_at !== undefined) next.started_at = patch.started_at;
  if (patch.finished_at !== undefined) next.finished_at = patch.finished_at;
  return next;
}

function taken(op: OperationRecord): boolean {
  return op.state === 'succeeded' || op.state === 'failed' || op.attempts > 0;
}

export class OperationWaiter {
  private readonly watched = new Map<string, Watched>();
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly changes: ChangeSource) {}

  /** Operations being waited for (or watched and not yet waited for). */
  get watching(): number {
    return this.watched.size;
  }

  /**
   * Listens for the operation's changes from now on: called before the operation is written, nothing
   * a reconcile does with it once committed can come before the listener.
   */
  watch(op: OperationRecord): OperationWait {
    const entry: Watched = { record: { ...op }, changed: () => {} };
    this.watched.set(op.id, entry);
    this.unsubscribe ??= this.changes.subscribe((change) => this.heard(change));
    const forget = () => {
      if (this.watched.get(op.id) === entry) this.watched.delete(op.id);
      if (this.watched.size === 0 && this.unsubscribe) {
        this.unsubscribe();
        this.unsubscribe = undefined;
      }
    };
    const wait = (timeoutMs: number, signal?: AbortSignal) =>
      new Promise<OperationRecord>((resolve, reject) => {
        const end = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', aborted);
          entry.changed = () => {};
          forget();
        };
        const aborted = () => {
          end();
          reject(signal!.reason);
        };
        const timer = setTimeout(() => {
          end();
          resolve({ ...entry.record });
        }, timeoutMs);
        if (signal?.aborted) return aborted();
        signal?.addEventListener('abort', aborted, { once: true });
        entry.changed = () => {
          if (!taken(entry.record)) return;
          end();
          resolve({ ...entry.record });
        };
        entry.changed();
      });
    return { wait, cancel: forget };
  }

  private heard(change: StoreChange): void {
    if (change.kind !== 'operation-updated') return;
    const entry = this.watched.get(change.id);
    if (!entry) return;
    entry.record = withPatch(entry.record, change.patch);
    entry.changed();
  }
}
