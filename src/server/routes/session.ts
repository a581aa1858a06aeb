// The console's sign-in: a token is exchanged for an HttpOnly cookie so page scripts never hold it,
// and /api/whoami tells the page which buttons the role may use.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { SESSION_COOKIE, credentialSource, type Principal } from '../auth.js';
import { principalOf } from '../auth-hook.js';
import type { ServerContext, WsmApp } from '../context.js';
import { Caller, ERRORS, NoBody } from '../responses.js';

const SessionCookie = Type.Object(
  { has_cookie: Type.Boolean({ description: 'true when the request carries the oauth_token cookie, valid or not' }) },
  { description: 'Whether there is a session to check' },
);

const SessionBody = Type.Object({ token: Type.String({ minLength: 1, maxLength: 4096 }) }, { additionalProperties: false });

function setSessionCookie(req: FastifyRequest, reply: FastifyReply, value: string, maxAge?: number): void {
  // Behind TLS the cookie must not leak to plain HTTP; on a bare localhost it has to work without.
  reply.setCookie(SESSION_COOKIE, value, { httpOnly: true, sameSite: 'strict', path: '/', maxAge, secure: req.protocol === 'https' });
}

export function describePrincipal(p: Principal) {
  return {
    actor: p.actor,
    role: p.role ?? null,
    grants: [...p.grants].map(([workspace, role]) => ({ workspace, role })),
  };
}

export async function sessionRoutes(app: WsmApp, ctx: ServerContext): Promise<void> {
  // Public: the token to check is in the body, and a stale cookie must not stand in the way of a new one.
  // It is a token check all the same, so a client past its limit of failures is refused here too.
  const signIn = { body: SessionBody, tags: ['session'], summary: 'Sign in: validates a token and keeps it in the oauth_token cookie', response: { 200: Caller, ...ERRORS } };
  app.post('/api/session', { config: { auth: 'public', checksToken: true }, schema: signIn }, async (req, reply) => {
    const principal = await ctx.auth.verify(req.body.token);
    setSessionCookie(req, reply, req.body.token);
    return describePrincipal(principal);
  });

  const signOut = { tags: ['session'], summary: 'Sign out: clears the cookie', response: { 204: NoBody, ...ERRORS } };
  app.delete('/api/session', { config: { auth: 'public' }, schema: signOut }, async (req, reply) => {
    setSessionCookie(req, reply, '', 0);
    return reply.status(204).send(null);
  });

  // The console's first question on a page load: without a cookie it shows sign-in at once, instead of
  // asking /api/whoami for a 401 that the browser logs as a failed request. The cookie's token is not
  // checked here (that is /api/whoami's, behind the limit on failed tokens), so this tells nothing about tokens.
  const cookieState = { tags: ['session'], summary: 'Whether the request carries the session cookie (not whether its token is valid)', response: { 200: SessionCookie, ...ERRORS } };
  app.get('/api/session', { config: { auth: 'public' }, schema: cookieState }, async (req) => ({ has_cookie: credentialSource(req) === 'cookie' }));

  const whoami = { tags: ['session'], summary: 'The caller: actor, role and per-workspace grants', response: { 200: Caller, ...ERRORS } };
  app.get('/api/whoami', { config: { auth: 'signed-in' }, schema: whoami }, async (req) => describePrincipal(principalOf(req)));
}
