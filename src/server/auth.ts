// Who is calling, and what may they do. Tokens come from the OAUTH-TOKEN header, then
// Authorization: Bearer, then the oauth_token cookie (first match wins, as in Mage). Secrets are
// stored as sha256 hashes; lookups are cached briefly, and the cache is dropped on any token change.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { WsmError } from '../core/errors.js';
import { ROLES, type Role, type TokenRecord } from '../core/types.js';
import type { Grant, Store } from '../store/store.js';

export interface Principal {
  /** Shown as the actor in operations and the audit log. */
  actor: string;
  tokenId?: string;
  /** The role on every workspace; undefined when the token only has per-workspace grants. */
  role?: Role;
  grants: Map<string, Role>;
}

export function hashToken(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** A new token: a prefix that says what it is, and 32 random bytes. */
export function newTokenSecret(): string {
  return `wsm_${randomBytes(32).toString('base64url')}`;
}

export function roleAtLeast(have: Role | undefined, need: Role): boolean {
  if (!have) return false;
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

export const SESSION_COOKIE = 'oauth_token';

/** Where a request's token came from: headers are set by scripts; a cookie is sent by the browser on its own. */
export type CredentialSource = 'header' | 'cookie';

export interface Credential {
  secret: string;
  source: CredentialSource;
}

/** What the cookie plugin gives a request (undefined when the plugin did not run, as for a sign-in body). */
type CookieJar = Record<string, string | undefined> | null | undefined;

/**
 * The cookie plugin's decoder: a value that is not valid %-encoding (no browser sends one back from
 * our Set-Cookie) decodes to undefined and stays in the jar as a present cookie without a value.
 */
export function decodeCookieValue(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

function hasSessionCookie(cookies: CookieJar): cookies is Record<string, string | undefined> {
  return cookies !== null && cookies !== undefined && SESSION_COOKIE in cookies;
}

type CredentialCarrier = Pick<FastifyRequest, 'headers'> & { cookies?: CookieJar };

function headerToken(req: Pick<FastifyRequest, 'headers'>): string | undefined {
  const header = req.headers['oauth-token'];
  if (typeof header === 'string' && header.length > 0) return header;
  const authorization = req.headers.authorization;
  if (authorization && /^bearer /i.test(authorization)) return authorization.slice(7).trim();
  return undefined;
}

/** Where the token would be read from, without reading it (a malformed cookie is still the cookie). */
export function credentialSource(req: CredentialCarrier): CredentialSource | undefined {
  if (headerToken(req) !== undefined) return 'header';
  return hasSessionCookie(req.cookies) ? 'cookie' : undefined;
}

/** The request's token and where it came from: OAUTH-TOKEN, then Authorization: Bearer, then the cookie. */
export function credentialFromRequest(req: CredentialCarrier): Credential | undefined {
  const fromHeader = headerToken(req);
  if (fromHeader !== undefined) return { secret: fromHeader, source: 'header' };
  if (!hasSessionCookie(req.cookies)) return undefined;
  const secret = req.cookies[SESSION_COOKIE];
  // A value no browser would send back from our Set-Cookie: refused like a wrong token, never a crash.
  if (secret === undefined) throw new WsmError('invalid_oauth_token', `The ${SESSION_COOKIE} cookie is not a validly %-encoded value; sign in again.`);
  return { secret, source: 'cookie' };
}

interface CacheEntry {
  token: TokenRecord;
  grants: Grant[];
  /**
   * The uid of each workspace the token has a role on, as it was when the entry was read (undefined:
   * none of that name existed). Deleting a workspace removes its grants and revokes its tokens; a
   * workspace of that name made since is another one, and the entry is read again.
   */
  uids: Map<string, string | undefined>;
  until: number;
}

export class Authenticator {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly adminHash?: Buffer;

  constructor(
    private readonly store: Store,
    adminToken: string | undefined,
    private readonly cacheTtlMs = 5_000,
  ) {
    if (adminToken) this.adminHash = Buffer.from(hashToken(adminToken), 'hex');
  }

  /** Drops cached lookups; called whenever a token or grant changes. */
  invalidate(): void {
    this.cache.clear();
  }

  /** The caller of a request, by the token it carries; a 401 WsmError when it carries none that is valid. */
  authenticate(req: CredentialCarrier): Promise<Principal> {
    return this.verify(credentialFromRequest(req)?.secret);
  }

  /** The principal a token secret stands for (a sign-in checks one from its body this way). */
  async verify(secret: string | undefined): Promise<Principal> {
    if (!secret) throw new WsmError('invalid_oauth_token', 'No token was given: send it in the OAUTH-TOKEN header, as Authorization: Bearer, or in the oauth_token cookie.');
    const hash = hashToken(secret);
    if (this.adminHash && timingSafeEqual(Buffer.from(hash, 'hex'), this.adminHash)) {
      return { actor: 'admin', role: 'owner', grants: new Map() };
    }
    const now = Date.now();
    let entry = this.cache.get(hash);
    if (!entry || entry.until < now || !(await this.sameWorkspaces(entry.uids))) {
      const token = await this.store.findTokenByHash(hash);
      if (!token) throw new WsmError('invalid_oauth_token', 'The token is not valid.');
      const grants = await this.store.listGrants(token.id);
      // Read after the grants: a delete committing in between shows as a changed uid next time.
      const uids = await this.uidsOf([...grants.map((g) => g.workspace), ...(token.workspace ? [token.workspace] : [])]);
      entry = { token, grants, uids, until: now + this.cacheTtlMs };
      this.cache.set(hash, entry);
    }
    const { token, grants } = entry;
    if (token.revoked_at) throw new WsmError('invalid_oauth_token', 'The token has been revoked.');
    if (token.expires_at && Date.parse(token.expires_at) <= now) {
      throw new WsmError('expired_oauth_token', `The token expired at ${token.expires_at}.`);
    }
    const grantMap = new Map(grants.map((g) => [g.workspace, g.role] as const));
    if (token.workspace) grantMap.set(token.workspace, token.role);
    return {
      actor: `token:${token.name || token.id}`,
      tokenId: token.id,
      role: token.workspace ? undefined : token.role,
      grants: grantMap,
    };
  }

  private async uidsOf(names: string[]): Promise<Map<string, string | undefined>> {
    const uids = new Map<string, string | undefined>();
    for (const name of names) uids.set(name, (await this.store.getWorkspace(name))?.uid);
    return uids;
  }

  private async sameWorkspaces(uids: Map<string, string | undefined>): Promise<boolean> {
    for (const [name, uid] of uids) if ((await this.store.getWorkspace(name))?.uid !== uid) return false;
    return true;
  }
}

export function roleOn(principal: Principal, workspace?: string): Role | undefined {
  const granted = workspace ? principal.grants.get(workspace) : undefined;
  if (!granted) return principal.role;
  if (!principal.role) return granted;
  return roleAtLeast(granted, principal.role) ? granted : principal.role;
}

export function requireRole(principal: Principal, need: Role, workspace?: string): void {
  if (roleAtLeast(roleOn(principal, workspace), need)) return;
  const where = workspace ? ` on workspace ${workspace}` : '';
  throw new WsmError('unauthorized_access', `This needs the ${need} role${where}; the token does not have it.`);
}

/** Whether the principal may see the workspace at all. */
export function canView(principal: Principal, workspace: string): boolean {
  return roleAtLeast(roleOn(principal, workspace), 'viewer');
}
