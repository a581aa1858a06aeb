// The live feed: EventSource on /api/events, reconnecting with backoff when the stream ends, and a
// full reload after each reconnect so changes missed while away are not lost.
import { publish } from './state.js';
import type { Operation, Workspace } from './types.js';

export type LiveState = 'connecting' | 'live' | 'reconnecting';

export function connectLive(onState: (s: LiveState) => void): () => void {
  let source: EventSource | undefined;
  let timer: number | undefined;
  let delay = 1000;
  let stopped = false;
  let everOpen = false;

  const open = () => {
    source = new EventSource('/api/events');
    source.addEventListener('open', () => {
      delay = 1000;
      onState('live');
      if (everOpen) publish({ reload: true });
      everOpen = true;
    });
    source.addEventListener('workspace', (e) => publish({ workspace: JSON.parse((e as MessageEvent).data) as Workspace }));
    source.addEventListener('deleted', (e) => publish({ deleted: (JSON.parse((e as MessageEvent).data) as { name: string }).name }));
    source.addEventListener('operation', (e) => publish({ operation: JSON.parse((e as MessageEvent).data) as Operation }));
    source.addEventListener('error', () => {
      onState('reconnecting');
      // The browser retries by itself unless the server refused (then the source is CLOSED).
      if (source?.readyState === EventSource.CLOSED && !stopped) {
        source.close();
        timer = window.setTimeout(open, delay);
        delay = Math.min(delay * 2, 30_000);
      }
    });
  };
  onState('connecting');
  open();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    source?.close();
  };
}
