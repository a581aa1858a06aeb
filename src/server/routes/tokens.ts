// /api/tokens: owners create, list and revoke tokens and grant roles on single workspaces.
import { randomUUID } from 'node:crypto';
import { Type } from 'typebox';
import { validateWorkspaceName } from '../../core/names.js';
import { validationError, WsmError } from '../../core/errors.js';
import type { TokenRecord } from '../../core/types.js';
import { hashToken, newTokenSecret } from '../auth.js';
import { principalOf } from '../auth-hook.js';
import type { ServerContext, WsmApp } from '../context.js';
import { ERRORS, GrantEnvelope, GrantRemoved, NewToken, Revoked, TokenList } from '../responses.js';
import { CreateTokenBody, GrantBody } from '../schemas.js';

const TokenParams = Type.Object({ id: Type.String() });
const GrantParams = Type.Object({ id: Type.String(), workspace: Type.String() });

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

export async function tokenRoutes(app: WsmApp, ctx: ServerContext): Promise<void> {
  const { store } = ctx;

  const create = { body: CreateTokenBody, tags: ['tokens'], summary: 'Create a token (the secret is shown once)', response: { 201: NewToken, ...ERRORS } };
  app.post('/api/tokens', { config: { auth: 'owner' }, schema: create }, async (req, reply) => {
    const principal = principalOf(req);
    const body = req.body;
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

  app.get('/api/tokens', { config: { auth: 'owner' }, schema: { tags: ['tokens'], summary: 'List tokens (without secrets)', response: { 200: TokenList, ...ERRORS } } }, async () => {
    const tokens = await store.listTokens();
    return { tokens: tokens.map(presentToken), metadata: { count: tokens.length } };
  });

  const revoke = { params: TokenParams, tags: ['tokens'], summary: 'Revoke a token', response: { 200: Revoked, ...ERRORS } };
  app.delete('/api/tokens/:id', { config: { auth: 'owner' }, schema: revoke }, async (req) => {
    const principal = principalOf(req);
    const { id } = req.params;
    const at = new Date().toISOString();
    if (!(await store.revokeToken(id, at))) throw new WsmError('not_found', `Token ${id} does not exist.`);
    await store.appendAudit({ at, actor: principal.actor, action: 'token_revoke', result: 'ok', detail: id, request_id: req.id });
    ctx.auth.invalidate();
    return { revoked: id };
  });

  const grant = { params: GrantParams, body: GrantBody, tags: ['tokens'], summary: 'Grant a token a role on one workspace', response: { 200: GrantEnvelope, ...ERRORS } };
  app.put('/api/tokens/:id/grants/:workspace', { config: { auth: 'owner' }, schema: grant }, async (req) => {
    const principal = principalOf(req);
    const { id, workspace } = req.params;
    const { role } = req.body;
    checkWorkspaceName(workspace);
    const tokens = await store.listTokens();
    if (!tokens.some((t) => t.id === id)) throw new WsmError('not_found', `Token ${id} does not exist.`);
    await store.putGrant({ token_id: id, workspace, role });
    await store.appendAudit({ at: new Date().toISOString(), actor: principal.actor, action: 'grant', workspace, result: 'ok', detail: `${role} to ${id}`, request_id: req.id });
    ctx.auth.invalidate();
    return { grant: { token_id: id, workspace, role } };
  });

  const ungrant = { params: GrantParams, tags: ['tokens'], summary: 'Remove a grant', response: { 200: GrantRemoved, ...ERRORS } };
  app.delete('/api/tokens/:id/grants/:workspace', { config: { auth: 'owner' }, schema: ungrant }, async (req) => {
    const principal = principalOf(req);
    const { id, workspace } = req.params;
    await store.deleteGrant(id, workspace);
    await store.appendAudit({ at: new Date().toISOString(), actor: principal.actor, action: 'revoke_grant', workspace, result: 'ok', detail: id, request_id: req.id });
    ctx.auth.invalidate();
    return { removed: { token_id: id, workspace } };
  });
}
