// Cluster settings (the env workspaces inherit) and the audit log: owners only.
import { Type } from 'typebox';
import { validationError, type FieldError } from '../../core/errors.js';
import type { ClusterSettings } from '../../core/types.js';
import { principalOf } from '../auth-hook.js';
import type { ServerContext, WsmApp } from '../context.js';
import { AuditPage, ClusterSettingsEnvelope, ERRORS } from '../responses.js';
import { ClusterSettingsBody } from '../schemas.js';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const AuditQuery = Type.Object(
  {
    workspace: Type.Optional(Type.String({ description: 'Only the events of this workspace' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  },
  { additionalProperties: false },
);

export async function adminRoutes(app: WsmApp, ctx: ServerContext): Promise<void> {
  const { store } = ctx;

  app.get('/api/cluster_settings', { config: { auth: 'owner' }, schema: { tags: ['cluster'], summary: 'Cluster settings', response: { 200: ClusterSettingsEnvelope, ...ERRORS } } }, async () => {
    return { cluster_settings: await store.getClusterSettings() };
  });

  const settingsChange = { body: ClusterSettingsBody, tags: ['cluster'], summary: 'Change cluster settings', response: { 200: ClusterSettingsEnvelope, ...ERRORS } };
  app.put('/api/cluster_settings', { config: { auth: 'owner' }, schema: settingsChange }, async (req) => {
    const principal = principalOf(req);
    const input = req.body.cluster_settings;
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
    const current = await store.getClusterSettings();
    // null turns a setting off; absent keeps it.
    const kept = <K extends keyof ClusterSettings>(key: K): ClusterSettings[K] | undefined => (input[key as keyof typeof input] === null ? undefined : ((input[key as keyof typeof input] as ClusterSettings[K]) ?? current[key]));
    const next: ClusterSettings = {
      env: input.env ?? current.env,
      inherit_patterns: input.inherit_patterns ?? current.inherit_patterns,
      default_image: kept('default_image'),
      dormant_after_days: kept('dormant_after_days'),
      delete_dormant_after_days: kept('delete_dormant_after_days'),
      delete_dormant_volume: kept('delete_dormant_volume'),
    };
    if (next.delete_dormant_after_days !== undefined && next.dormant_after_days === undefined) {
      errors.push({ field: 'cluster_settings.delete_dormant_after_days', message: 'needs dormant_after_days: only a dormant workspace is deleted' });
    }
    if (errors.length > 0) throw validationError(errors);
    for (const key of Object.keys(next) as (keyof ClusterSettings)[]) if (next[key] === undefined) delete next[key];
    await store.putClusterSettings(next);
    await store.appendAudit({ at: new Date().toISOString(), actor: principal.actor, action: 'cluster_settings', result: 'ok', request_id: req.id });
    return { cluster_settings: next };
  });

  const audit = { querystring: AuditQuery, tags: ['cluster'], summary: 'The audit log, newest first', response: { 200: AuditPage, ...ERRORS } };
  app.get('/api/audit', { config: { auth: 'owner' }, schema: audit }, async (req) => {
    const q = req.query;
    const events = await store.listAudit({ workspace: q.workspace, limit: q.limit ?? 100 });
    return { events, metadata: { count: events.length } };
  });
}
