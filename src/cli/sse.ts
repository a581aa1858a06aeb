// Reads a text/event-stream answer into events: `connected` once (the server's first block carries
// only an id), then one item per event block. Comments (heartbeats) are skipped. A stream cut off
// (the server went away) is an unreachable server, which the caller may wait out.
import { CliError, EXIT } from './errors.js';

export type ServerEvent =
  | { event: 'connected'; id?: string }
  | { event: 'workspace' | 'deleted' | 'operation' | 'reset' | 'auth' | string; id?: string; data: any };

function parseBlock(block: string): { id?: string; event?: string; data?: string } {
  const out: { id?: string; event?: string; data?: string } = {};
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') out.id = value;
    else if (field === 'event') out.event = value;
    else if (field === 'data') out.data = out.data === undefined ? value : `${out.data}\n${value}`;
  }
  return out;
}

export async function* readEvents(res: Response, signal: AbortSignal): AsyncGenerator<ServerEvent> {
  const decoder = new TextDecoder();
  let text = '';
  let connected = false;
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      text += decoder.decode(chunk, { stream: true }).replace(/\r\n?/g, '\n');
      let end: number;
      while ((end = text.indexOf('\n\n')) >= 0) {
        const block = parseBlock(text.slice(0, end));
        text = text.slice(end + 2);
        if (!connected) {
          connected = true;
          yield { event: 'connected', id: block.id };
        }
        if (block.data === undefined) continue;
        let data: unknown;
        try {
          data = JSON.parse(block.data);
        } catch {
          data = block.data;
        }
        yield { event: block.event ?? 'message', id: block.id, data };
      }
    }
  } catch (err) {
    // Leaving (a deadline, Ctrl-C) ends the stream quietly.
    if (signal.aborted) return;
    throw new CliError(`the event stream was cut off (${err instanceof Error ? err.message : String(err)})`, EXIT.unreachable);
  }
}
