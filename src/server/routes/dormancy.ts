// GET /api/dormancy: the dry run of dormancy (docs/schedules.md). Every dormant workspace, when it was
// warned and when it will be deleted, and what the leader's next pass would do; it changes nothing.
import { currentWarning, dormancyOf, dormancyStep, dormantCutoff } from '../../core/dormancy.js';
import type { ServerContext, WsmApp } from '../context.js';
import { DormancyReport, ERRORS } from '../responses.js';

const PAGE = 500;

export async function dormancyRoutes(app: WsmApp, ctx: ServerContext): Promise<void> {
  const { store } = ctx;
  const schema = { tags: ['cluster'], summary: 'Dormant workspaces and what will be done about them (a dry run)', response: { 200: DormancyReport, ...ERRORS } };
  app.get('/api/dormancy', { config: { auth: 'owner' }, schema }, async () => {
    const settings = await store.getClusterSettings();
    const now = (ctx.clock ?? Date.now)();
    const cutoff = dormantCutoff(settings, now);
    const workspaces = [];
    for (let offset = 0; cutoff !== undefined; offset += PAGE) {
      const page = await store.listWorkspaces({ dormant: { cutoff, dormant: true }, limit: PAGE, offset });
      for (const ws of page.workspaces) {
        const view = dormancyOf(ws, settings, now);
        if (!view.dormant || view.dormant_since === null) continue;
        const warning = currentWarning(ws, Date.parse(view.dormant_since));
        workspaces.push({
          name: ws.name,
          dormant_since: view.dormant_since,
          deletes_at: view.deletes_at,
          warned_at: warning?.warned_at ?? null,
          next_step: dormancyStep(ws, settings, now)?.kind ?? null,
          delete_volume: settings.delete_dormant_volume ?? false,
        });
      }
      if (page.workspaces.length < PAGE) break;
    }
    return {
      settings: {
        dormant_after_days: settings.dormant_after_days ?? null,
        delete_dormant_after_days: settings.delete_dormant_after_days ?? null,
        delete_dormant_volume: settings.delete_dormant_volume ?? false,
      },
      workspaces,
      metadata: { count: workspaces.length },
    };
  });
}
