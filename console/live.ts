// The live feed: EventSource on /api/events. The browser reconnects by itself after a dropped
// stream and sends the id of the last event it got; the server then replays what was missed, or
// sends `reset` when it no longer can, and only then is the list reloaded. When the server refused
// the stream (the source is CLOSED) or ended it for the token (`auth`), a new source is opened with
// backoff, resuming from the last id seen; without one, a full reload follows so nothing is lost.
import { publish } from './state.js';
import type { Operation, Workspace } from './types.js';

export type LiveState = 'connecting' | 'live' | 'reconnecting';

export function connectLive(onState: (s: LiveState) => void): () => void {
  let source: EventSource | undefined;
  let timer: number | undefined;
  let delay = 1000;
  let stopped = false;
  let everOpen = false;
  let lastId = '';

  const reopenLater = () => {
    source?.close();
    onState('reconnecting');
    if (stopped) return;
    clearTimeout(timer);
    timer = window.setTimeout(open, delay);
    delay = Math.min(delay * 2, 30_000);
  };

  const on = (name: string, handle: (data: string) => void) =>
    source!.addEventListener(name, (e) => {
      const message = e as MessageEvent<string>;
      if (message.lastEventId) lastId = message.lastEventId;
      handle(message.data);
    });

  const open = () => {
    const resumeFrom = lastId;
    source = new EventSource(resumeFrom ? `/api/events?last_event_id=${encodeURIComponent(resumeFrom)}` : '/api/events');
    source.addEventListener('open', () => {
      delay = 1000;
      onState('live');
      // A new source with nothing to resume from cannot know what it missed.
      if (everOpen && !resumeFrom) publish({ reload: true });
      everOpen = true;
    });
    on('workspace', (data) => publish({ workspace: JSON.parse(data) as Workspace }));
    on('deleted', (data) => publish({ deleted: (JSON.parse(data) as { name: string }).name }));
    on('operation', (data) => publish({ operation: JSON.parse(data) as Operation }));
    // The server could not replay what was missed.
    on('reset', () => publish({ reload: true }));
    // The token was revoked or expired: the browser's own retry would only be refused.
    on('auth', reopenLater);
    source.addEventListener('error', () => {
      onState('reconnecting');
      // The browser retries by itself unless the server refused (then the source is CLOSED).
      if (source?.readyState === EventSource.CLOSED) reopenLater();
    });
  };
  onState('connecting');
  open();
  return () => {
    stopped = true;
    clearTimeout(timer);
    source?.close();
  };
}
