// The browser's way into the workspace proxy: the console's cookie lives on the API's origin and never
// reaches the proxy's, so this route, called with it, sends the browser to the proxy with a one-time
// ticket that the proxy turns into a cookie of its own origin (src/proxy/sessions.ts, docs/proxy.md).
import { Type } from 'typebox';
import { WsmError } from '../../core/errors.js';
import { isDnsLabel } from '../../core/names.js';
import { credentialFromRequest, requireRole } from '../auth.js';
import { principalOf } from '../auth-hook.js';
import type { ServerContext, WsmApp } from '../context.js';
import { ERRORS } from '../responses.js';

const ProxySessionQuery = Type.Object(
  {
    workspace: Type.String({ description: 'The workspace to open' }),
    path: Type.Optional(Type.String({ description: 'The proxy path to land on (with path routing, under /<workspace>); default the workspace\'s home' })),
  },
  { additionalProperties: false },
);

export async function proxySessionRoutes(app: WsmApp, ctx: ServerContext): Promise<void> {
  // A browser's step, not an API client's (as /api/docs): left out of the OpenAPI document.
  const schema = {
    hide: true,
    querystring: ProxySessionQuery,
    tags: ['session'],
    summary: 'Open a workspace through the workspace proxy: redirects the signed-in browser to the proxy with a one-time sign-in ticket',
    response: { 302: Type.Null(), ...ERRORS },
  };
  app.get('/api/proxy/session', { config: { auth: 'signed-in' }, schema }, async (req, reply) => {
    const proxy = ctx.proxy;
    if (!proxy) throw new WsmError('not_found', 'The workspace proxy is off on this server: start wsm serve with --proxy-port.');
    const { workspace, path } = req.query;
    // The name becomes part of a host name with host routing: nothing but a workspace name may get there.
    if (!isDnsLabel(workspace)) throw new WsmError('validation_error', 'workspace must be a workspace name (a lower-case DNS label).', [{ field: 'workspace', message: 'must be a lower-case DNS label' }]);
    requireRole(principalOf(req), 'viewer', workspace);
    const secret = credentialFromRequest(req)!.secret;
    const ticket = proxy.tickets.issue(secret, workspace);
    // With host routing this is the workspace's own host: the cookie the proxy sets there is that workspace's alone.
    const target = `${proxy.addressing.originOf(workspace)}/_wsm/session?ticket=${encodeURIComponent(ticket)}&path=${encodeURIComponent(path ?? proxy.addressing.homePath(workspace))}`;
    return reply.redirect(target, 302);
  });
}
