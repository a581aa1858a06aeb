// Cluster settings (the env workspaces inherit) and the audit log: owners only.
import { Type, type Static } from 'typebox';
import type { FastifyInstance } from 'fastify';
import { validationError, type FieldError } from '../../core/errors.js';
import type { ClusterSettings } from '../../core/types.js';
import { requireRole } from '../auth.js';
import type { ServerContext } from '../context.js';
import { ClusterSettingsBody } from '../schemas.js';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const AuditQuery = Type.Object(
  {
    workspace: Type.Optional(Type.String({ description: 'Only the events of this workspace' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  },
  { additionalProperties: false },
);

export async function adminRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const { store } = ctx;

  app.get('/api/cluster_settings', { schema: { tags: ['cluster'], summary: 'Cluster settings' } }, async (req) => {
    const principal = await ctx.auth.authenticate(req);
    requireRole(principal, 'owner');
    return { cluster_settings: await store.getClusterSettings() };
  });

  app.put('/api/cluster_settings', { schema: { body: ClusterSettingsBody, tags: ['cluster'], summary: 'Change cluster settings' } }, async (req) => {
    const principal = await ctx.auth.authenticate(req);
    requireRole(principal, 'owner');
    const input = (req.body as Static<typeof ClusterSettingsBody>).cluster_settings;
    const errors: FieldError[] = [];
    input.env?.forEach((e, i) => {
      if (!ENV_NAME.test(e.name)) errors.push({ field: `cluster_settings.env[${i}].name`, message: 'must be a variable name: letters, digits and _, not starting with a digit' });
    });
    input.inherit_patterns?.forEach((p, i) => {
      if (p.startsWith('/') && p.endsWith('/') && p.length > 1) {
        try {
          new RegExp(p.slice(1, -1));
        } catch (err) {
          errors.push({ field: `cluster_settings.inherit_patterns[${i}]`, message: `is not a valid regular expression: ${(err as Error).message}` });
        }
      }
    });
    if (errors.length > 0) throw validationError(errors);
    const current = await store.getClusterSettings();
    const next: ClusterSettings = {
      env: input.env ?? current.env,
      inherit_patterns: input.inherit_patterns ?? current.inherit_patterns,
      default_image: input.default_image === null ? undefined : (input.default_image ?? current.default_image),
    };
    await store.putClusterSettings(next);
    await store.appendAudit({ at: new Date().toISOString(), actor: principal.actor, action: 'cluster_settings', result: 'ok', request_id: req.id });
    return { cluster_settings: next };
  });

  app.get('/api/audit', { schema: { querystring: AuditQuery, tags: ['cluster'], summary: 'The audit log, newest first' } }, async (req) => {
    const principal = await ctx.auth.authenticate(req);
    requireRole(principal, 'owner');
    const q = req.query as Static<typeof AuditQuery>;
    const events = await store.listAudit({ workspace: q.workspace, limit: q.limit ?? 100 });
    return { events, metadata: { count: events.length } };
  });
}
