// The browser's way into the workspace proxy: the console's cookie lives on the API's origin and never
// reaches the proxy's, so this route, called with it, sends the browser to the proxy with a one-time
// ticket that the proxy turns into a cookie of its own origin (src/proxy/sessions.ts, docs/proxy.md).
import { Type } from 'typebox';
import { WsmError } from '../../core/errors.js';
import { credentialFromRequest, requireRole } from '../auth.js';
import { principalOf } from '../auth-hook.js';
import type { ServerContext, WsmApp } from '../context.js';
import { ERRORS } from '../responses.js';

const ProxySessionQuery = Type.Object(
  {
    workspace: Type.String({ description: 'The workspace to open' }),
    path: Type.Optional(Type.String({ description: 'The proxy path to land on, under /<workspace>; default /<workspace>/' })),
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
    requireRole(principalOf(req), 'viewer', workspace);
    const secret = credentialFromRequest(req)!.secret;
    const ticket = proxy.tickets.issue(secret);
    const target = `${proxy.baseUrl}/_wsm/session?ticket=${encodeURIComponent(ticket)}&path=${encodeURIComponent(path ?? `/${workspace}/`)}`;
    return reply.redirect(target, 302);
  });
}
