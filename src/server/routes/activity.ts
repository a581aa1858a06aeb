// POST /api/workspaces/{name}/activity: the heartbeat a workspace (or an agent in it) sends to say it
// is in use. It changes what the idle culler decides, so it needs the editor role on that workspace:
// a token limited to the workspace (POST /api/tokens with "workspace") is the intended caller.
import type { ServerContext, WsmApp } from '../context.js';
import { presentActivity } from '../presenter.js';
import { ActivityEnvelope, ERRORS } from '../responses.js';
import { WorkspaceParams } from '../schemas.js';

export async function activityRoutes(app: WsmApp, ctx: ServerContext): Promise<void> {
  const heartbeat = { params: WorkspaceParams, tags: ['workspaces'], summary: 'Heartbeat: the workspace is in use', response: { 200: ActivityEnvelope, ...ERRORS } };
  app.post('/api/workspaces/:name/activity', { config: { auth: 'editor' }, schema: heartbeat }, async (req) => {
    const { name } = req.params;
    const ws = await ctx.actions.heartbeat(name);
    const latest = ctx.controller.activity.peek(name);
    // The write to the store may be debounced: the answer shows the heartbeat just taken.
    const activity = latest ? { ...ws.activity, last_activity_at: new Date(latest.at).toISOString(), last_activity_source: latest.source } : ws.activity;
    return { activity: presentActivity({ ...ws, activity }), metadata: {} };
  });
}
