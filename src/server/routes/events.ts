// GET /api/events: server-sent events of workspace and operation changes, filtered to what the
// caller may view. EventSource sends cookies, so the console's session works here too.
import type { FastifyInstance } from 'fastify';
import type { OperationRecord } from '../../core/types.js';
import type { StoreChange } from '../../store/change-feed.js';
import { canView, roleOn } from '../auth.js';
import type { ServerContext } from '../context.js';
import { presentOperation, presentWorkspace } from '../presenter.js';

export const HEARTBEAT_MS = 15_000;

export async function eventRoutes(app: FastifyInstance, ctx: ServerContext, options: { heartbeatMs?: number } = {}): Promise<void> {
  const open = new Set<() => void>();
  // Hijacked responses would keep app.close() waiting forever; end them first.
  app.addHook('preClose', async () => {
    for (const end of [...open]) end();
  });

  app.get('/api/events', { schema: { tags: ['events'], summary: 'Server-sent events: workspace, deleted, operation' } }, async (req, reply) => {
    const principal = await ctx.auth.authenticate(req);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': req.id,
    });
    res.write(': connected\nretry: 2000\n\n');

    const send = (event: string, data: unknown) => {
      if (!res.writableEnded) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    // Store reads finish out of order; a chain keeps events in the order the store committed them.
    let chain = Promise.resolve();
    const enqueue = (work: () => Promise<void>) => {
      chain = chain.then(work).catch((err: unknown) => req.log.warn({ err }, 'event not sent'));
    };

    const onWorkspace = (name: string) => {
      if (!canView(principal, name)) return;
      enqueue(async () => {
        const ws = await ctx.store.getWorkspace(name);
        if (!ws) return send('deleted', { name });
        const [lastOperation] = await ctx.store.listOperations(name, 1);
        send('workspace', presentWorkspace(ws, { access: roleOn(principal, name), lastOperation }));
      });
    };
    const onOperation = (op: OperationRecord) => {
      if (!canView(principal, op.workspace)) return;
      const presented = { ...presentOperation(op), workspace: op.workspace };
      enqueue(async () => send('operation', presented));
    };
    const onChange = (change: StoreChange) => {
      if (change.kind === 'workspace') {
        if (change.write !== 'activity') onWorkspace(change.name);
      } else if (change.kind === 'operation-inserted') {
        onOperation(change.operation);
      } else {
        enqueue(async () => {
          const op = await ctx.store.getOperation(change.id);
          if (op && canView(principal, op.workspace)) send('operation', { ...presentOperation(op), workspace: op.workspace });
        });
      }
    };
    const unsubscribe = ctx.store.changes.subscribe(onChange);
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), options.heartbeatMs ?? HEARTBEAT_MS);

    const end = () => {
      if (!open.delete(end)) return;
      clearInterval(heartbeat);
      unsubscribe();
      if (!res.writableEnded) res.end();
    };
    open.add(end);
    req.raw.on('close', end);
    res.on('close', end);
    res.on('error', end);
  });
}
