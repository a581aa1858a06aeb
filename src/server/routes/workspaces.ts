// /api/workspaces: the Mage Pro workspace API.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { WsmError, notFound } from '../../core/errors.js';
import { CLUSTER_TYPES, INSTANCE_STATUSES, type ClusterType, type InstanceStatus, type OperationRecord } from '../../core/types.js';
import type { ActionResult } from '../../app/workspace-actions.js';
import type { ChangePlan } from '../../core/change-plan.js';
import type { StoreOps } from '../../store/store.js';
import type { ConfigAccess } from '../../core/container-config-access.js';
import { canView, roleAtLeast, roleOn, type Principal } from '../auth.js';
import { principalOf } from '../auth-hook.js';
import { etag, presentOperation, presentWorkspace } from '../presenter.js';
import { ERRORS, OperationEnvelope, OperationList, WorkspaceChange, WorkspaceEnvelope, WorkspacePage } from '../responses.js';
import { ActionBody, CreateWorkspaceBody, DeleteQuery, ListQuery, WorkspaceParams } from '../schemas.js';
import type { ServerContext, WsmApp } from '../context.js';
import { withIdempotency } from '../idempotency.js';
import { untilClientGone } from '../client-gone.js';
import { IDLE_MARK, KeptListPages, type KeptAnswer } from '../kept-list-pages.js';
import { dormancyOf, dormantCutoff, leftStoppedSince } from '../../core/dormancy.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What a refusal of the route is recorded as in the audit log. */
    audit?: (req: FastifyRequest) => { action: string; workspace: string | undefined };
  }
}

/** A string member of the body's `workspace` object (the body is valid by the time anything is refused). */
function bodyField(req: FastifyRequest, key: string): string | undefined {
  const body = req.body;
  if (typeof body !== 'object' || body === null || !('workspace' in body)) return undefined;
  const workspace = body.workspace;
  if (typeof workspace !== 'object' || workspace === null || !(key in workspace)) return undefined;
  const value: unknown = Object.entries(workspace).find(([k]) => k === key)?.[1];
  return typeof value === 'string' ? value : undefined;
}

/** A patch asked to change nothing (its refusals are not audited either: nothing was attempted). */
function isDryRun(req: FastifyRequest): boolean {
  const body = req.body as { workspace?: { dry_run?: unknown } } | undefined;
  return body?.workspace?.dry_run === true;
}

function pathName(req: FastifyRequest): string | undefined {
  const params = req.params;
  return typeof params === 'object' && params !== null && 'name' in params && typeof params.name === 'string' ? params.name : undefined;
}

const OperationParams = Type.Object({ id: Type.String() });

const isClusterType = (s: string | undefined): s is ClusterType => CLUSTER_TYPES.some((t) => t === s);
const isInstanceStatus = (s: string): s is InstanceStatus => INSTANCE_STATUSES.some((t) => t === s);

/** An answer already serialised by its route's response schema; its buffer is reused once it is written. */
function sendKept(reply: FastifyReply, answer: KeptAnswer): FastifyReply {
  // 'finish': the last byte has been handed to the operating system. An aborted answer's buffer is
  // left to the garbage collector, as a write of it may still be pending.
  reply.raw.once('finish', answer.release);
  return reply.type('application/json; charset=utf-8').send(answer.bytes);
}

function splitList(value: string | undefined): string[] {
  return value ? value.split(',').map((s) => s.trim()).filter(Boolean) : [];
}

/** Keys that reach outside a workspace take an owner of every workspace, not a token scoped to one. */
function configAccessOf(principal: Principal): ConfigAccess {
  return roleAtLeast(roleOn(principal), 'owner') ? 'owner' : 'editor';
}

function parseIfMatch(req: FastifyRequest): string | undefined {
  const header = req.headers['if-match'];
  if (typeof header !== 'string') return undefined;
  return header.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

export async function workspaceRoutes(app: WsmApp, ctx: ServerContext): Promise<void> {
  const { store, actions } = ctx;
  const keptPages = new KeptListPages();
  const proxyUrlOf = ctx.proxy && ((name: string) => ctx.proxy!.addressing.workspaceUrl(name));

  const answer = (reply: FastifyReply, principal: Principal, result: ActionResult, status = 200) => {
    // A dry run's ETag is the workspace's as it stays: an If-Match on the real patch then holds the plan to it.
    reply.header('etag', etag(result.unchanged ?? result.workspace));
    return {
      status,
      body: {
        workspace: presentWorkspace(result.workspace, { access: roleOn(principal, result.workspace.name), lastOperation: result.operation, proxyUrlOf }),
        operation: presentOperation(result.operation),
        ...(result.plan ? { plan: result.plan } : {}),
        ...(result.dryRun ? { dry_run: true } : {}),
        metadata: {},
      },
    };
  };

  /** The workspace and operation a request wrote, as they stand now: the answer to a retry whose first answer was lost. */
  const writtenBy = async (operationId: string): Promise<ActionResult> => {
    const operation = await store.getOperation(operationId);
    const workspace = operation && (await store.getWorkspace(operation.workspace));
    if (!operation || !workspace || workspace.uid !== operation.workspace_uid) {
      throw new WsmError('not_found', `The workspace this request changed (operation ${operationId}) no longer exists.`);
    }
    const plan = operation.details?.plan as ChangePlan | undefined;
    return { workspace, operation, ...(plan ? { plan } : {}) };
  };

  // A refused create, action or delete (the role missing, a conflict, a bad config) is audited like one carried out.
  app.addHook('onError', async (req, _reply, err) => {
    const audit = req.routeOptions.config.audit;
    if (!audit || !req.principal || !(err instanceof WsmError) || err.status >= 500 || isDryRun(req)) return;
    const { action, workspace } = audit(req);
    await actions.auditRejection(action, workspace, { actor: req.principal.actor, requestId: req.id }, err);
  });

  const list = { querystring: ListQuery, tags: ['workspaces'], summary: 'List workspaces', response: { 200: WorkspacePage, ...ERRORS } };
  app.get('/api/workspaces', { config: { auth: 'signed-in' }, schema: list }, async (req, reply) => {
    const principal = principalOf(req);
    const q = req.query;
    const clusterType = q.cluster_type?.toLowerCase();
    if (clusterType !== undefined && !isClusterType(clusterType)) {
      throw new WsmError('validation_error', `cluster_type: must be one of ${CLUSTER_TYPES.join(', ')}`, [{ field: 'cluster_type', message: `must be one of ${CLUSTER_TYPES.join(', ')}` }]);
    }
    const asked = splitList(q.status).map((s) => s.toUpperCase());
    const statuses = asked.filter(isInstanceStatus);
    const badStatus = asked.find((s) => !isInstanceStatus(s));
    if (badStatus) {
      throw new WsmError('validation_error', `status: ${badStatus} is not a status; use ${INSTANCE_STATUSES.join(', ')}`, [{ field: 'status', message: `must be a comma-separated list of ${INSTANCE_STATUSES.join(', ')}` }]);
    }
    const namespaces = splitList(q.namespace ?? q['namespace[]']).filter((n) => n !== '__all__');
    if (q.dormant !== undefined && q.dormant !== 'true' && q.dormant !== 'false') {
      throw new WsmError('validation_error', `dormant: must be true or false, not ${JSON.stringify(q.dormant)}`, [{ field: 'dormant', message: 'must be true or false' }]);
    }
    const settings = await store.getClusterSettings();
    const now = (ctx.clock ?? Date.now)();
    const cutoff = dormantCutoff(settings, now);
    // With dormancy off nothing is dormant: dormant=true finds nothing, dormant=false everything.
    const dormantFilter = q.dormant === undefined ? undefined : { cutoff: cutoff ?? Number.MIN_SAFE_INTEGER, dormant: q.dormant === 'true' };
    let names: string[] | undefined;
    if (!principal.role) names = [...principal.grants.keys()];
    const limit = q.limit ?? 100;
    const offset = q.offset ?? 0;
    const page = await store.listWorkspaces({
      cluster_type: isClusterType(clusterType) ? clusterType : undefined,
      status: statuses.length > 0 ? statuses : undefined,
      namespace: namespaces.length > 0 ? namespaces : undefined,
      search: q.q,
      names,
      dormant: dormantFilter,
      limit,
      offset,
    });
    const metadata = {
      count: page.total,
      limit,
      offset,
      next_offset: offset + page.workspaces.length < page.total ? offset + page.workspaces.length : null,
    };
    // Without grants a principal has one role on every workspace: looked up once, not per item.
    const sameRole = principal.grants.size === 0;
    const role = roleOn(principal);
    if (sameRole && roleAtLeast(role, 'viewer')) {
      // Everything the answer holds but the idle seconds follows from the query, the role and the page.
      // Besides: the next schedule times (they move on each minute) and who is dormant now (time and settings).
      const scheduled = page.workspaces.some((ws) => ws.spec.lifecycle.schedule) ? Math.floor(now / 60_000) : null;
      const dormant = cutoff === undefined ? null : page.workspaces.map((ws) => dormancyOf(ws, settings, now).dormant);
      const key = JSON.stringify([role, clusterType, statuses, namespaces, q.q, q.dormant, limit, offset, scheduled, dormant]);
      const kept = keptPages.answer(key, page, now);
      if (kept !== undefined) return sendKept(reply, kept);
      const marked = page.workspaces.map((ws) => presentWorkspace(ws, { access: role, now, idleMark: IDLE_MARK, proxyUrlOf, dormancy: settings }));
      const serialized = reply.serialize({ workspaces: marked, metadata });
      const text = typeof serialized === 'string' ? keptPages.keep(key, page, serialized, now) : undefined;
      if (text !== undefined) return sendKept(reply, text);
    }
    const workspaces = page.workspaces
      .filter((ws) => (sameRole ? roleAtLeast(role, 'viewer') : canView(principal, ws.name)))
      .map((ws) => presentWorkspace(ws, { access: sameRole ? role : roleOn(principal, ws.name), now, proxyUrlOf, dormancy: settings }));
    return { workspaces, metadata };
  });

  const create = { body: CreateWorkspaceBody, tags: ['workspaces'], summary: 'Create a workspace', response: { 201: WorkspaceChange, ...ERRORS } };
  const createAudit = (req: FastifyRequest) => ({ action: 'create', workspace: bodyField(req, 'name') });
  app.post('/api/workspaces', { config: { auth: 'owner', audit: createAudit }, schema: create }, async (req, reply) => {
    const principal = principalOf(req);
    const body = req.body;
    return withIdempotency(ctx, req, reply, principal, {
      run: async (writeAlongside) => {
        const result = await actions.create(body.workspace, { actor: principal.actor, requestId: req.id, configAccess: configAccessOf(principal), signal: untilClientGone(reply), writeAlongside });
        return answer(reply, principal, result, 201);
      },
      answerWritten: async (operationId) => answer(reply, principal, await writtenBy(operationId), 201),
    });
  });

  const get = { params: WorkspaceParams, tags: ['workspaces'], summary: 'Get a workspace', response: { 200: WorkspaceEnvelope, ...ERRORS } };
  app.get('/api/workspaces/:name', { config: { auth: 'viewer' }, schema: get }, async (req, reply) => {
    const principal = principalOf(req);
    const { name } = req.params;
    const ws = await store.getWorkspace(name);
    if (!ws) throw new WsmError('not_found', `Workspace ${name} does not exist.`);
    const [lastOperation] = await store.listWorkspaceOperations(ws.uid, 1);
    reply.header('etag', etag(ws));
    // Only a workspace left stopped can be dormant: the settings are read for those alone.
    const dormancy = leftStoppedSince(ws) === undefined ? undefined : await store.getClusterSettings();
    const now = (ctx.clock ?? Date.now)();
    return { workspace: presentWorkspace(ws, { access: roleOn(principal, name), lastOperation, proxyUrlOf, dormancy, now }), metadata: {} };
  });

  const act = { params: WorkspaceParams, body: ActionBody, tags: ['workspaces'], summary: 'Act on a workspace: stop, resume, patch, add_to_ingress', response: { 200: WorkspaceChange, ...ERRORS } };
  const actAudit = (req: FastifyRequest) => ({ action: bodyField(req, 'action') ?? 'act', workspace: pathName(req) });
  app.put('/api/workspaces/:name', { config: { auth: 'editor', audit: actAudit }, schema: act }, async (req, reply) => {
    const principal = principalOf(req);
    const { name } = req.params;
    const body = req.body;
    const act = async (writeAlongside?: (tx: StoreOps, op: OperationRecord) => Promise<void>) => {
      const result = await actions.act(name, body.workspace, { actor: principal.actor, requestId: req.id, ifMatch: parseIfMatch(req), configAccess: configAccessOf(principal), signal: untilClientGone(reply), writeAlongside });
      return answer(reply, principal, result);
    };
    if (isDryRun(req)) {
      // Nothing to replay and nothing to write: a dry run keeps no Idempotency-Key.
      const { status, body: sent } = await act();
      return reply.status(status).send(sent);
    }
    return withIdempotency(ctx, req, reply, principal, {
      run: act,
      answerWritten: async (operationId) => answer(reply, principal, await writtenBy(operationId)),
    });
  });

  const remove = { params: WorkspaceParams, querystring: DeleteQuery, tags: ['workspaces'], summary: 'Delete a workspace', response: { 200: WorkspaceChange, ...ERRORS } };
  const removeAudit = (req: FastifyRequest) => ({ action: 'delete', workspace: pathName(req) });
  app.delete('/api/workspaces/:name', { config: { auth: 'owner', audit: removeAudit }, schema: remove }, async (req, reply) => {
    const principal = principalOf(req);
    const { name } = req.params;
    const q = req.query;
    const result = await actions.remove(name, q.delete_volume ?? false, { actor: principal.actor, requestId: req.id, ifMatch: parseIfMatch(req), signal: untilClientGone(reply) });
    const { status, body } = answer(reply, principal, result);
    return reply.status(status).send(body);
  });

  const operations = { params: WorkspaceParams, tags: ['workspaces'], summary: 'Recent operations of a workspace', response: { 200: OperationList, ...ERRORS } };
  app.get('/api/workspaces/:name/operations', { config: { auth: 'viewer' }, schema: operations }, async (req) => {
    const { name } = req.params;
    const ws = await store.getWorkspace(name);
    if (!ws) throw notFound(name);
    const ops = await store.listWorkspaceOperations(ws.uid, 50);
    return { operations: ops.map(presentOperation).filter((op) => op !== null), metadata: { count: ops.length } };
  });

  const operation = { params: OperationParams, tags: ['operations'], summary: 'One operation', response: { 200: OperationEnvelope, ...ERRORS } };
  app.get('/api/operations/:id', { config: { auth: 'signed-in' }, schema: operation }, async (req) => {
    const principal = principalOf(req);
    const { id } = req.params;
    const op = await store.getOperation(id);
    const presented = op && canView(principal, op.workspace) ? presentOperation(op) : null;
    if (!presented) throw new WsmError('not_found', `Operation ${id} does not exist.`);
    return { operation: presented };
  });
}
