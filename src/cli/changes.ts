// Changes to workspaces as the server announces them (GET /api/events), for watch and wait. A
// `sync` comes first and after every reconnect that may have missed something: the caller then reads
// the current state, which is safe because the stream is already open. A lost connection is resumed
// with Last-Event-ID; a token that stops working ends it with the API's error.
import type { ApiClient } from './client.js';
import { CliError, EXIT } from './errors.js';
import type { WorkspaceView } from './workspace-view.js';

export type Change = { kind: 'sync' } | { kind: 'workspace'; workspace: WorkspaceView } | { kind: 'deleted'; name: string };

/** Reconnecting gives up when the server could not be reached for this long (a restart takes seconds). */
const RECONNECT_FOR_MS = 30_000;
const RECONNECT_DELAY_MS = 1_000;

export async function* workspaceChanges(client: ApiClient, signal: AbortSignal): AsyncGenerator<Change> {
  let lastId: string | undefined;
  let unreachableSince: number | undefined;
  while (!signal.aborted) {
    // A resumed stream replays what was missed; one that cannot be resumed says `reset`.
    const resuming = lastId !== undefined;
    try {
      for await (const e of client.events(signal, lastId)) {
        unreachableSince = undefined;
        if (e.id) lastId = e.id;
        if ((e.event === 'connected' && !resuming) || e.event === 'reset') yield { kind: 'sync' };
        else if (e.event === 'workspace') yield { kind: 'workspace', workspace: e.data as WorkspaceView };
        else if (e.event === 'deleted') yield { kind: 'deleted', name: (e.data as { name: string }).name };
        else if (e.event === 'auth') {
          const message = (e.data as { error?: { message?: string } })?.error?.message ?? 'the token is no longer valid';
          throw new CliError(message, EXIT.auth);
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      if (!(err instanceof CliError) || err.exitCode !== EXIT.unreachable) throw err;
      unreachableSince ??= Date.now();
      if (Date.now() - unreachableSince > RECONNECT_FOR_MS) throw err;
    }
    if (signal.aborted) return;
    await new Promise((r) => setTimeout(r, RECONNECT_DELAY_MS));
  }
}
