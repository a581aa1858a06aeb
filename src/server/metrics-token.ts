// The metrics token: Prometheus sends it as `Authorization: Bearer <token>` (its `authorization` or
// `bearer_token_file` setting). It is its own secret, not an API token: whoever scrapes can read
// counts, never workspaces. Compared in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** A check of the Authorization header against the token; with no token configured, everything passes. */
export function metricsTokenCheck(token: string | undefined): (headers: IncomingHttpHeaders) => boolean {
  if (token === undefined) return () => true;
  const expected = digest(token);
  return (headers) => {
    const match = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '');
    return match !== null && timingSafeEqual(digest(match[1]!.trim()), expected);
  };
}
