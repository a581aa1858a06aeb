// Reads a server-sent event stream the way a browser's EventSource would, for tests of /api/events.

export interface SseEvent {
  id?: string;
  event: string;
  data: any;
  /** Date.now() when it arrived. */
  at: number;
}

/**
 * Reads `res` to its end, calling `onBlock` for every block: with its id, and with the event when the
 * block carries one (a block may carry only an id). Resolves 'ended' when the server closed the stream,
 * 'broken' when it was aborted or reset.
 */
export async function readSse(res: Response, onBlock: (id: string | undefined, event: SseEvent | undefined) => void): Promise<'ended' | 'broken'> {
  const decoder = new TextDecoder();
  let text = '';
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      text += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = text.indexOf('\n\n')) >= 0) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        const id = /^id: (.*)$/m.exec(block)?.[1];
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        onBlock(id, event && data ? { id, event, data: JSON.parse(data), at: Date.now() } : undefined);
      }
    }
    return 'ended';
  } catch {
    return 'broken';
  }
}
