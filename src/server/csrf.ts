// Cross-site request forgery: a browser sends the oauth_token cookie with any request to our host,
// including a form another page submits (a page on another port of the same host is same-site, so
// SameSite=Strict does not stop it). A state-changing request signed in by that cookie must therefore
// come from wsm's own pages: its Origin is this server's origin, and a body it carries is JSON, which a
// cross-origin page cannot send without a CORS preflight that wsm never grants. Requests with the token
// in a header (scripts, the CLI) are not affected: a foreign page cannot set those headers.
import type { FastifyRequest } from 'fastify';
import { WsmError, type FieldError } from '../core/errors.js';
import { credentialSource } from './auth.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
// POST, PUT and PATCH always carry a body in the console; a DELETE may have none.
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** scheme://host[:port] this request was addressed to, as a browser would write it in Origin. */
export function ownOrigin(req: Pick<FastifyRequest, 'protocol' | 'host'>): string | undefined {
  if (!req.host || (req.protocol !== 'http' && req.protocol !== 'https')) return undefined;
  try {
    return new URL(`${req.protocol}://${req.host}`).origin;
  } catch {
    return undefined;
  }
}

function normalisedOrigin(value: string): string | undefined {
  try {
    const origin = new URL(value).origin;
    // URL gives "null" for schemes without an origin; a browser's opaque origin is the text "null".
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}

function hasBody(req: FastifyRequest): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function isJson(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase() === 'application/json';
}

/** Throws csrf_rejected when a cookie-signed, state-changing request did not come from wsm's own pages. */
export function checkCookieRequestOrigin(req: FastifyRequest): void {
  if (SAFE_METHODS.has(req.method)) return;
  if (credentialSource(req) !== 'cookie') return;
  const problems: FieldError[] = [];
  const expected = ownOrigin(req);
  const origin = req.headers.origin;
  if (origin === undefined) {
    problems.push({ field: 'origin', message: `is missing; a request signed in by the oauth_token cookie must send Origin: ${expected ?? 'this server\'s origin'}` });
  } else if (expected === undefined || normalisedOrigin(origin) !== expected) {
    problems.push({ field: 'origin', message: `is ${JSON.stringify(origin)}, not this server's origin ${expected ?? '(unknown: no Host header)'}` });
  }
  if ((BODY_METHODS.has(req.method) || hasBody(req)) && !isJson(req.headers['content-type'])) {
    problems.push({ field: 'content-type', message: `is ${JSON.stringify(req.headers['content-type'] ?? '')}; a request signed in by the cookie must send application/json` });
  }
  if (problems.length === 0) return;
  const what = problems.map((p) => `${p.field} ${p.message}`).join('; ');
  throw new WsmError('csrf_rejected', `Refused as a possible cross-site request: ${what}. Scripts should send the token in the OAUTH-TOKEN header instead.`, problems);
}
