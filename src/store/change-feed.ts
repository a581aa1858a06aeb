// What the store has committed, told to whoever listens in this process: the reconciler wakes for a
// workspace a request changed, a request waits for its operation, the console hears of new statuses.
// A change is published only once its transaction has committed (never for one rolled back), so a
// listener that reads the store finds at least what it heard of. Replicas sharing PostgreSQL carry
// the same changes between them (pg-change-feed.ts): what this process commits is also handed to the
// relay, and what the relay brings from the others is published here without going back out.
import type { ChangeListener, ChangeSource, StoreBackend, Store, StoreChange, StoreOps } from './store.js';

export type { ChangeListener, StoreChange, WorkspaceWrite } from './store.js';

export class ChangeFeed implements ChangeSource {
  private readonly listeners = new Set<ChangeListener>();
  private relay: ChangeListener | undefined;

  /** Hands every change committed by this process (not those received) to `relay`; not a listener. */
  relayTo(relay: ChangeListener | undefined): void {
    this.relay = relay;
  }

  /** Hears every change committed from now on, synchronously, in commit order; returns unsubscribe. */
  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  publish(change: StoreChange): void {
    this.relay?.(change);
    this.deliver(change, false);
  }

  /** A change another replica committed: told to this process's listeners only. */
  publishReceived(change: StoreChange): void {
    this.deliver(change, true);
  }

  private deliver(change: StoreChange, received: boolean): void {
    for (const listener of this.listeners) {
      try {
        listener(change, received);
      } catch (err) {
        // The write has committed: a listener's bug must not fail it, nor keep the others from hearing.
        process.emitWarning(`a store change listener failed: ${err instanceof Error ? err.stack : String(err)}`);
      }
    }
  }
}

type Describe<K extends keyof StoreOps> = (args: Parameters<StoreOps[K]>, result: Awaited<ReturnType<StoreOps[K]>>) => StoreChange | undefined;

/** The writes that are changes, and what each one says. Reads and other records are not published. */
const WRITES: { [K in keyof StoreOps]?: Describe<K> } = {
  insertWorkspace: ([ws]) => ({ kind: 'workspace', name: ws.name, write: 'created' }),
  replaceWorkspace: ([ws], replaced) => (replaced ? { kind: 'workspace', name: ws.name, write: 'desired' } : undefined),
  setObserved: ([name]) => ({ kind: 'workspace', name, write: 'observed' }),
  setActivity: ([name]) => ({ kind: 'workspace', name, write: 'activity' }),
  deleteWorkspace: ([name]) => ({ kind: 'workspace', name, write: 'deleted' }),
  insertOperation: ([operation]) => ({ kind: 'operation-inserted', operation: { ...operation } }),
  updateOperation: ([id, patch]) => ({ kind: 'operation-updated', id, patch: { ...patch } }),
};

/** `ops` whose writes, once they have run, are handed to `sink`; everything else is `ops` itself. */
function reporting<T extends StoreOps>(ops: T, sink: (change: StoreChange) => void, extra: Partial<Record<PropertyKey, unknown>> = {}): T {
  const made = new Map<PropertyKey, unknown>();
  return new Proxy(ops, {
    get(target, key) {
      if (key in extra) return extra[key];
      let value = made.get(key);
      if (value !== undefined) return value;
      const member = Reflect.get(target, key, target) as unknown;
      if (typeof member !== 'function') return member;
      const describe = WRITES[key as keyof StoreOps] as ((args: unknown[], result: unknown) => StoreChange | undefined) | undefined;
      value = describe
        ? async (...args: unknown[]) => {
            const result: unknown = await (member as (...a: unknown[]) => Promise<unknown>).apply(target, args);
            const change = describe(args, result);
            if (change) sink(change);
            return result;
          }
        : member.bind(target);
      made.set(key, value);
      return value;
    },
  });
}

/**
 * The store that publishes what it commits on `feed`: a write outside a transaction as soon as it has
 * run (it has committed), a transaction's writes together once the transaction has committed.
 */
export function publishingStore(backend: StoreBackend, feed = new ChangeFeed()): Store {
  const publish = (change: StoreChange) => feed.publish(change);
  const transaction = async <T>(fn: (tx: StoreOps) => Promise<T>): Promise<T> => {
    const pending: StoreChange[] = [];
    const result = await backend.transaction((tx) => fn(reporting(tx, (change) => pending.push(change))));
    for (const change of pending) publish(change);
    return result;
  };
  return reporting(backend, publish, { changes: feed, transaction }) as unknown as Store;
}
