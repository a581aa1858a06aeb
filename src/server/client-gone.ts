// A request that waits for its operation stops waiting when its client goes away: nobody is left to
// read the answer, and a wait kept until the runtime takes the change would hold a listener and a timer
// for each client that gave up. The change itself is committed and carries on.
import type { FastifyReply } from 'fastify';

/** The reason a wait was ended by the client closing its connection (not an error of the request). */
export class ClientGone extends Error {
  constructor() {
    super('The client closed the connection before the answer.');
    this.name = 'ClientGone';
  }
}

/** Aborted once the connection of `reply` closes before the answer has been written. */
export function untilClientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableEnded) controller.abort(new ClientGone());
  });
  return controller.signal;
}
