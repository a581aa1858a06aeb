// What the page knows, shared by the views, and the changes views listen to.
import type { Operation, Whoami, Workspace } from './types.js';

type Listener = (change: { workspace?: Workspace; deleted?: string; operation?: Operation; reload?: boolean }) => void;

export const state = {
  me: null as Whoami | null,
  clusterTypes: [] as string[],
  workspaces: new Map<string, Workspace>(),
};

const listeners = new Set<Listener>();

export function subscribe(fn: Listener): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

// The stream can report a deletion before the DELETE request has answered with the workspace
// (marked for deletion); that late answer must not bring the row back.
const gone = new Set<string>();

export function publish(change: Parameters<Listener>[0]): void {
  if (change.workspace) {
    const ws = change.workspace;
    if (ws.deletion && gone.has(ws.name)) return;
    gone.delete(ws.name);
    state.workspaces.set(ws.name, ws);
  }
  if (change.deleted) {
    gone.add(change.deleted);
    state.workspaces.delete(change.deleted);
  }
  for (const fn of [...listeners]) fn(change);
}

/** Only owners create; only owners of a workspace delete it; editors act; viewers look. */
export const canCreate = () => state.me?.role === 'owner';
export const canAct = (ws: Workspace) => ws.access === 'editor' || ws.access === 'owner';
export const canDelete = (ws: Workspace) => ws.access === 'owner';
