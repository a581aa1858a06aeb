// /api/workspaces: the Mage Pro workspace API.
import type { Static } from 'typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { WsmError } from '../../core/errors.js';
import { CLUSTER_TYPES, INSTANCE_STATUSES, type ClusterType, type InstanceStatus } from '../../core/types.js';
import type { ActionResult } from '../../app/workspace-actions.js';
import type { ConfigAccess } from '../../core/container-config-access.js';
import { canView, requireRole, roleAtLeast, roleOn, type Principal } from '../auth.js';
import { etag, presentOperation, presentWorkspace } from '../presenter.js';
import { ActionBody, CreateWorkspaceBody, DeleteQuery, ListQuery, WorkspaceParams } from '../schemas.js';
import type { ServerContext } from '../context.js';
import { withIdempotency, type RouteAnswer } from '../idempotency.js';

type NameParams = { name: string };

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

export async function workspaceRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const { store, actions } = ctx;

  const answer = (reply: FastifyReply, principal: Principal, result: ActionResult, status = 200): RouteAnswer => {
    reply.header('etag', etag(result.workspace));
    return {
      status,
      body: {
        workspace: presentWorkspace(result.workspace, { access: roleOn(principal, result.workspace.name), lastOperation: result.operation }),
        operation: presentOperation(result.operation),
        metadata: {},
      },
    };
  };

  const audited = async <T>(action: string, name: string | undefined, principal: Principal, req: FastifyRequest, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      if (err instanceof WsmError && err.status < 500) {
        await actions.auditRejection(action, name, { actor: principal.actor, requestId: req.id }, err);
      }
      throw err;
    }
  };

  app.get('/api/workspaces', { schema: { querystring: ListQuery, tags: ['workspaces'], summary: 'List workspaces' } }, async (req, reply) => {
    const principal = await ctx.auth.authenticate(req);
    const q = req.query as Static<typeof ListQuery>;
    const clusterType = q.cluster_type?.toLowerCase();
    if (clusterType !== undefined && !CLUSTER_TYPES.includes(clusterType as ClusterType)) {
      throw new WsmError('validation_error', `cluster_type: must be one of ${CLUSTER_TYPES.join(', ')}`, [{ field: 'cluster_type', message: `must be one of ${CLUSTER_TYPES.join(', ')}` }]);
    }
    const statuses = splitList(q.status).map((s) => s.toUpperCase());
    const badStatus = statuses.find((s) => !INSTANCE_STATUSES.includes(s as InstanceStatus));
    if (badStatus) {
      throw new WsmError('validation_error', `status: ${badStatus} is not a status; use ${INSTANCE_STATUSES.join(', ')}`, [{ field: 'status', message: `must be a comma-separated list of ${INSTANCE_STATUSES.join(', ')}` }]);
    }
    const namespaces = splitList(q.namespace ?? q['namespace[]']).filter((n) => n !== '__all__');
    let names: string[] | undefined;
    if (!principal.role) names = [...principal.grants.keys()];
    const limit = q.limit ?? 100;
    const offset = q.offset ?? 0;
    const page = await store.listWorkspaces({
      cluster_type: clusterType as ClusterType | undefined,
      status: statuses.length > 0 ? (statuses as InstanceStatus[]) : undefined,
      namespace: namespaces.length > 0 ? namespaces : undefined,
      search: q.q,
      names,
      limit,
      offset,
    });
    const metadata = {
      count: page.total,
      limit,
      offset,
      next_offset: offset + page.workspaces.length < page.total ? offset + page.workspaces.length : null,
    };
    const now = Date.now();
    // Without grants a principal has one role on every workspace: looked up once, not per item.
    const sameRole = principal.grants.size === 0;
    const role = roleOn(principal);
    const workspaces = page.workspaces
      .filter((ws) => (sameRole ? roleAtLeast(role, 'viewer') : canView(principal, ws.name)))
      .map((ws) => presentWorkspace(ws, { access: sameRole ? role : roleOn(principal, ws.name), now }));
    return { workspaces, metadata };
  });

  app.post('/api/workspaces', { schema: { body: CreateWorkspaceBody, tags: ['workspaces'], summary: 'Create a workspace' } }, async (req, reply) => {
    const principal = await ctx.auth.authenticate(req);
    const body = req.body as Static<typeof CreateWorkspaceBody>;
    return audited('create', body.workspace.name, principal, req, async () => {
      requireRole(principal, 'owner');
      return withIdempotency(ctx, req, reply, principal, async () => {
        const result = await actions.create(body.workspace, { actor: principal.actor, requestId: req.id, configAccess: configAccessOf(principal) });
        return answer(reply, principal, result, 201);
      });
    });
  });

  app.get('/api/workspaces/:name', { schema: { params: WorkspaceParams, tags: ['workspaces'], summary: 'Get a workspace' } }, async (req, reply) => {
    const principal = await ctx.auth.authenticate(req);
    const { name } = req.params as NameParams;
    requireRole(principal, 'viewer', name);
    const ws = await store.getWorkspace(name);
    if (!ws) throw new WsmError('not_found', `Workspace ${name} does not exist.`);
    const [lastOperation] = await store.listOperations(name, 1);
    reply.header('etag', etag(ws));
    return { workspace: presentWorkspace(ws, { access: roleOn(principal, name), lastOperation }), metadata: {} };
  });

  app.put('/api/workspaces/:name', { schema: { params: WorkspaceParams, body: ActionBody, tags: ['workspaces'], summary: 'Act on a workspace: stop, resume, patch, add_to_ingress' } }, async (req, reply) => {
    const principal = await ctx.auth.authenticate(req);
    const { name } = req.params as NameParams;
    const body = req.body as Static<typeof ActionBody>;
    return audited(body.workspace.action, name, principal, req, async () => {
      requireRole(principal, 'editor', name);
      return withIdempotency(ctx, req, reply, principal, async () => {
        const result = await actions.act(name, body.workspace, { actor: principal.actor, requestId: req.id, ifMatch: parseIfMatch(req), configAccess: configAccessOf(principal) });
        return answer(reply, principal, result);
      });
    });
  });

  app.delete('/api/workspaces/:name', { schema: { params: WorkspaceParams, querystring: DeleteQuery, tags: ['workspaces'], summary: 'Delete a workspace' } }, async (req, reply) => {
    const principal = await ctx.auth.authenticate(req);
    const { name } = req.params as NameParams;
    const q = req.query as Static<typeof DeleteQuery>;
    return audited('delete', name, principal, req, async () => {
      requireRole(principal, 'owner', name);
      const result = await actions.remove(name, q.delete_volume ?? false, { actor: principal.actor, requestId: req.id, ifMatch: parseIfMatch(req) });
      const { status, body } = answer(reply, principal, result);
      return reply.status(status).send(body);
    });
  });

  app.get('/api/workspaces/:name/operations', { schema: { params: WorkspaceParams, tags: ['workspaces'], summary: 'Recent operations of a workspace' } }, async (req) => {
    const principal = await ctx.auth.authenticate(req);
    const { name } = req.params as NameParams;
    requireRole(principal, 'viewer', name);
    const ops = await store.listOperations(name, 50);
    return { operations: ops.map(presentOperation), metadata: { count: ops.length } };
  });

  app.get('/api/operations/:id', { schema: { tags: ['operations'], summary: 'One operation' } }, async (req) => {
    const principal = await ctx.auth.authenticate(req);
    const { id } = req.params as { id: string };
    const op = await store.getOperation(id);
    if (!op || !canView(principal, op.workspace)) throw new WsmError('not_found', `Operation ${id} does not exist.`);
    return { operation: presentOperation(op) };
  });
}
