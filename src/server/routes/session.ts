// The console's sign-in: a token is exchanged for an HttpOnly cookie so page scripts never hold it,
// and /api/whoami tells the page which buttons the role may use.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import type { Principal } from '../auth.js';
import type { ServerContext } from '../context.js';

const SessionBody = Type.Object({ token: Type.String({ minLength: 1, maxLength: 4096 }) }, { additionalProperties: false });

const COOKIE = 'oauth_token';

function cookie(req: FastifyRequest, value: string, maxAge?: number): string {
  const parts = [`${COOKIE}=${encodeURIComponent(value)}`, 'HttpOnly', 'SameSite=Strict', 'Path=/'];
  if (maxAge !== undefined) parts.push(`Max-Age=${maxAge}`);
  // Behind TLS the cookie must not leak to plain HTTP; on a bare localhost it has to work without.
  if (req.protocol === 'https') parts.push('Secure');
  return parts.join('; ');
}

export function describePrincipal(p: Principal) {
  return {
    actor: p.actor,
    role: p.role ?? null,
    grants: [...p.grants].map(([workspace, role]) => ({ workspace, role })),
  };
}

export async function sessionRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  app.post('/api/session', { schema: { body: SessionBody, tags: ['session'], summary: 'Sign in: validates a token and keeps it in the oauth_token cookie' } }, async (req, reply) => {
    const { token } = req.body as Static<typeof SessionBody>;
    // The authenticator reads tokens from requests; this one carries only the token being checked.
    const principal = await ctx.auth.authenticate({ headers: { 'oauth-token': token } } as unknown as FastifyRequest);
    reply.header('set-cookie', cookie(req, token));
    return describePrincipal(principal);
  });

  app.delete('/api/session', { schema: { tags: ['session'], summary: 'Sign out: clears the cookie' } }, async (req, reply) => {
    reply.header('set-cookie', cookie(req, '', 0));
    return reply.status(204).send();
  });

  app.get('/api/whoami', { schema: { tags: ['session'], summary: 'The caller: actor, role and per-workspace grants' } }, async (req) => {
    return describePrincipal(await ctx.auth.authenticate(req));
  });
}
