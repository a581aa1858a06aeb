// /api/tokens: owners create, list and revoke tokens and grant roles on single workspaces.
import type { Static } from 'typebox';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { validateWorkspaceName } from '../../core/names.js';
import { validationError, WsmError } from '../../core/errors.js';
import type { TokenRecord } from '../../core/types.js';
import { hashToken, newTokenSecret, requireRole } from '../auth.js';
import type { ServerContext } from '../context.js';
import { CreateTokenBody, GrantBody } from '../schemas.js';

function presentToken(token: TokenRecord) {
  return {
    id: token.id,
    name: token.name,
    role: token.role,
    workspace: token.workspace ?? null,
    expires_at: token.expires_at ?? null,
    created_at: token.created_at,
    revoked_at: token.revoked_at ?? null,
  };
}

/** A grant or token limited to a workspace must name one that could exist. */
function checkWorkspaceName(workspace: string): void {
  const errors = validateWorkspaceName(workspace).map((e) => ({ ...e, field: 'workspace' }));
  if (errors.length > 0) throw validationError(errors);
}

export async function tokenRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const { store } = ctx;

  app.post('/api/tokens', { schema: { body: CreateTokenBody, tags: ['tokens'], summary: 'Create a token (the secret is shown once)' } }, async (req, reply) => {
    const principal = await ctx.auth.authenticate(req);
    requireRole(principal, 'owner');
    const body = req.body as Static<typeof CreateTokenBody>;
    if (body.workspace !== undefined) checkWorkspaceName(body.workspace);
    const secret = newTokenSecret();
    const now = new Date();
    const token: TokenRecord = {
      id: randomUUID(),
      hash: hashToken(secret),
      name: body.name ?? '',
      role: body.role,
      workspace: body.workspace,
      expires_at: body.expires_in_seconds ? new Date(now.getTime() + body.expires_in_seconds * 1000).toISOString() : undefined,
      created_at: now.toISOString(),
    };
    await store.transaction(async (tx) => {
      await tx.insertToken(token);
      await tx.appendAudit({ at: token.created_at, actor: principal.actor, action: 'token_create', workspace: token.workspace, result: 'ok', detail: `role ${token.role}${token.name ? `, name ${token.name}` : ''}`, request_id: req.id });
    });
    ctx.auth.invalidate();
    return reply.status(201).send({ token: { ...presentToken(token), secret } });
  });

  app.get('/api/tokens', { schema: { tags: ['tokens'], summary: 'List tokens (without secrets)' } }, async (req) => {
    const principal = await ctx.auth.authenticate(req);
    requireRole(principal, 'owner');
    const tokens = await store.listTokens();
    return { tokens: tokens.map(presentToken), metadata: { count: tokens.length } };
  });

  app.delete('/api/tokens/:id', { schema: { tags: ['tokens'], summary: 'Revoke a token' } }, async (req) => {
    const principal = await ctx.auth.authenticate(req);
    requireRole(principal, 'owner');
    const { id } = req.params as { id: string };
    const at = new Date().toISOString();
    if (!(await store.revokeToken(id, at))) throw new WsmError('not_found', `Token ${id} does not exist.`);
    await store.appendAudit({ at, actor: principal.actor, action: 'token_revoke', result: 'ok', detail: id, request_id: req.id });
    ctx.auth.invalidate();
    return { revoked: id };
  });

  app.put('/api/tokens/:id/grants/:workspace', { schema: { body: GrantBody, tags: ['tokens'], summary: 'Grant a token a role on one workspace' } }, async (req) => {
    const principal = await ctx.auth.authenticate(req);
    requireRole(principal, 'owner');
    const { id, workspace } = req.params as { id: string; workspace: string };
    const { role } = req.body as Static<typeof GrantBody>;
    checkWorkspaceName(workspace);
    const tokens = await store.listTokens();
    if (!tokens.some((t) => t.id === id)) throw new WsmError('not_found', `Token ${id} does not exist.`);
    await store.putGrant({ token_id: id, workspace, role });
    await store.appendAudit({ at: new Date().toISOString(), actor: principal.actor, action: 'grant', workspace, result: 'ok', detail: `${role} to ${id}`, request_id: req.id });
    ctx.auth.invalidate();
    return { grant: { token_id: id, workspace, role } };
  });

  app.delete('/api/tokens/:id/grants/:workspace', { schema: { tags: ['tokens'], summary: 'Remove a grant' } }, async (req) => {
    const principal = await ctx.auth.authenticate(req);
    requireRole(principal, 'owner');
    const { id, workspace } = req.params as { id: string; workspace: string };
    await store.deleteGrant(id, workspace);
    await store.appendAudit({ at: new Date().toISOString(), actor: principal.actor, action: 'revoke_grant', workspace, result: 'ok', detail: id, request_id: req.id });
    ctx.auth.invalidate();
    return { removed: { token_id: id, workspace } };
  });
}
