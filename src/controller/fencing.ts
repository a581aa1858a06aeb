// Fencing: what a leader's duties use instead of the plain runtimes and store, so that a replica whose
// term may have ended (it was paused, or cut off from the database) does nothing more. Docker and local
// processes cannot check a term themselves, so every runtime call that changes something first asks
// the database whether the term still holds with a margin left; every store write first checks the
// term by the local clock (no I/O). A call refused this way never settles: the term's duties are being
// stopped, and nothing of theirs, not even the record of a failure, may be written any more.
import type { Runtime } from '../core/runtime.js';
import type { ClusterType } from '../core/types.js';
import type { Store } from '../store/store.js';
import type { LeaderTerm } from './leadership.js';

/** The runtime calls that change what runs. */
const ACTING_CALLS = new Set<PropertyKey>(['apply', 'remove', 'exec']);
/**
 * The store calls that write. Activity is not among them: a late activity time is harmless, and the
 * controller's stop() flushes it, which must end for the next term to begin.
 */
const WRITES = new Set<PropertyKey>([
  'insertWorkspace',
  'replaceWorkspace',
  'setObserved',
  'deleteWorkspace',
  'insertOperation',
  'updateOperation',
  'transaction',
  'appendAudit',
  'putClusterSettings',
]);

const never = <T>(): Promise<T> => new Promise<T>(() => {});

export function fencedRuntime(inner: Runtime, term: LeaderTerm): Runtime {
  return new Proxy(inner, {
    get(target, key) {
      const member = Reflect.get(target, key, target) as unknown;
      if (typeof member !== 'function') return member;
      const call = (member as (...args: unknown[]) => unknown).bind(target);
      if (!ACTING_CALLS.has(key)) return call;
      return async (...args: unknown[]) => ((await term.confirm()) ? call(...args) : never());
    },
  });
}

export function fencedRuntimes(runtimes: Map<ClusterType, Runtime>, term: LeaderTerm): Map<ClusterType, Runtime> {
  return new Map([...runtimes].map(([type, runtime]) => [type, fencedRuntime(runtime, term)]));
}

export function fencedStore(store: Store, term: LeaderTerm): Store {
  return new Proxy(store, {
    get(target, key) {
      const member = Reflect.get(target, key, target) as unknown;
      if (typeof member !== 'function') return member;
      const call = (member as (...args: unknown[]) => unknown).bind(target);
      if (!WRITES.has(key)) return call;
      return (...args: unknown[]) => (term.current ? call(...args) : never());
    },
  });
}
