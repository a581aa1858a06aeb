// What `wsm serve` runs only while it leads: the reconciler, the idle culler and the scheduled
// clean-up. With SQLite there is one process, which leads from start to shutdown with the one
// controller it serves with. With PostgreSQL each term gets a controller of its own over fenced
// runtimes and a fenced store (controller/fencing.ts), and the controller the requests use never
// reconciles: it is given a store whose change feed says nothing and is never started.
import type { ChangeSource, Store } from '../store/store.js';
import type { LeaderTerm } from '../controller/leadership.js';
import { fencedRuntimes, fencedStore } from '../controller/fencing.js';
import type { Controller } from '../controller/controller.js';
import type { Runtime } from '../core/runtime.js';
import type { ClusterType } from '../core/types.js';

/** How long a term's controller is given to stop before the next term goes ahead without it. */
const STOP_WAIT_MS = 5_000;

const SILENT: ChangeSource = { subscribe: () => () => {}, listenerCount: 0 };

/** The store as a controller that must not reconcile sees it: the same, but no change wakes it. */
export function withoutChanges(store: Store): Store {
  return new Proxy(store, { get: (target, key) => (key === 'changes' ? SILENT : Reflect.get(target, key, target)) });
}

export interface TermParts {
  controller: Controller;
  /** Starts the culler and scheduled work; returns what stops them. */
  startScheduled(controller: Controller): () => void;
}

export interface LeaderDutiesOptions {
  store: Store;
  runtimes: Map<ClusterType, Runtime>;
  /** The controller requests use; with one process (`sole`) it is also the one that reconciles. */
  serving: Controller;
  sole: boolean;
  makeController(store: Store, runtimes: Map<ClusterType, Runtime>): Controller;
  startScheduled(controller: Controller): () => void;
  /** Told which controller reconciles now (none while following). */
  onController(controller: Controller | undefined): void;
}

export function leaderDuties(options: LeaderDutiesOptions): (term: LeaderTerm) => Promise<() => Promise<void>> {
  return async (term) => {
    const controller = options.sole ? options.serving : options.makeController(fencedStore(options.store, term), fencedRuntimes(options.runtimes, term));
    options.onController(controller);
    try {
      await controller.start();
    } catch (err) {
      // A term's own controller is not left behind subscribed to changes when the term is tried again.
      options.onController(undefined);
      if (!options.sole) await controller.stop();
      throw err;
    }
    const stopScheduled = options.startScheduled(controller);
    return async () => {
      stopScheduled();
      options.onController(undefined);
      // Bounded: the next term's duties wait for these to stop, and a fenced call never settles.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([controller.stop(), new Promise((resolve) => (timer = setTimeout(resolve, STOP_WAIT_MS)))]);
      clearTimeout(timer);
    };
  };
}
