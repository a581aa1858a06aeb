// What a workspace must never see of wsm: the token headers and wsm's own cookies. A workspace's pages
// are written by its editors; a token reaching them could act on every workspace its owner may.
import type { IncomingHttpHeaders } from 'node:http';
import { SESSION_COOKIE } from '../server/auth.js';
import { PROXY_SESSION_COOKIE } from './sessions.js';

const WSM_COOKIES = new Set([SESSION_COOKIE, PROXY_SESSION_COOKIE]);

/** The Cookie header without wsm's cookies; undefined when nothing else is left. */
export function withoutWsmCookies(cookie: string | undefined): string | undefined {
  if (!cookie) return undefined;
  const kept = cookie
    .split(';')
    .map((pair) => pair.trim())
    .filter((pair) => pair !== '' && !WSM_COOKIES.has(pair.split('=', 1)[0]!.trim()));
  return kept.length > 0 ? kept.join('; ') : undefined;
}

/**
 * The request's headers as the workspace gets them. Authorization is removed only when it carried
 * wsm's token (a bearer token and no OAUTH-TOKEN, which wins); otherwise it is the workspace's own.
 */
export function forwardedHeaders<T extends IncomingHttpHeaders | Record<string, unknown>>(headers: T): T {
  const out: Record<string, unknown> = { ...headers };
  const authorization = out.authorization;
  const bearerWasOurs = typeof authorization === 'string' && /^bearer /i.test(authorization) && !out['oauth-token'];
  delete out['oauth-token'];
  if (bearerWasOurs) delete out.authorization;
  const cookie = withoutWsmCookies(typeof out.cookie === 'string' ? out.cookie : undefined);
  if (cookie === undefined) delete out.cookie;
  else out.cookie = cookie;
  return out as T;
}
