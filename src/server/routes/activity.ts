// POST /api/workspaces/{name}/activity: the heartbeat a workspace (or an agent in it) sends to say it
// is in use. It changes what the idle culler decides, so it needs the editor role on that workspace:
// a token limited to the workspace (POST /api/tokens with "workspace") is the intended caller.
import type { FastifyInstance } from 'fastify';
import { requireRole } from '../auth.js';
import type { ServerContext } from '../context.js';
import { presentActivity } from '../presenter.js';
import { WorkspaceParams } from '../schemas.js';

export async function activityRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.post('/api/workspaces/:name/activity', { schema: { params: WorkspaceParams, tags: ['workspaces'], summary: 'Heartbeat: the workspace is in use' } }, async (req) => {
    const principal = await ctx.auth.authenticate(req);
    const { name } = req.params as { name: string };
    requireRole(principal, 'editor', name);
    const ws = await ctx.actions.heartbeat(name);
    const latest = ctx.controller.activity.peek(name);
    // The write to the store may be debounced: the answer shows the heartbeat just taken.
    const activity = latest ? { ...ws.activity, last_activity_at: new Date(latest.at).toISOString(), last_activity_source: latest.source } : ws.activity;
    return { activity: presentActivity({ ...ws, activity }), metadata: {} };
  });
}
