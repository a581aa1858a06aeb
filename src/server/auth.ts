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

function rawCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function headerToken(req: Pick<FastifyRequest, 'headers'>): string | undefined {
  const header = req.headers['oauth-token'];
  if (typeof header === 'string' && header.length > 0) return header;
  const authorization = req.headers.authorization;
  if (authorization && /^bearer /i.test(authorization)) return authorization.slice(7).trim();
  return undefined;
}

/** Where the token would be read from, without reading it (a malformed cookie is still the cookie). */
export function credentialSource(req: Pick<FastifyRequest, 'headers'>): CredentialSource | undefined {
  if (headerToken(req) !== undefined) return 'header';
  return rawCookie(req.headers.cookie, SESSION_COOKIE) === undefined ? undefined : 'cookie';
}

/** The request's token and where it came from: OAUTH-TOKEN, then Authorization: Bearer, then the cookie. */
export function credentialFromRequest(req: Pick<FastifyRequest, 'headers'>): Credential | undefined {
  const fromHeader = headerToken(req);
  if (fromHeader !== undefined) return { secret: fromHeader, source: 'header' };
  const raw = rawCookie(req.headers.cookie, SESSION_COOKIE);
  if (raw === undefined) return undefined;
  try {
    return { secret: decodeURIComponent(raw), source: 'cookie' };
  } catch {
    // A value no browser would send back from our Set-Cookie: refused like a wrong token, never a crash.
    throw new WsmError('invalid_oauth_token', `The ${SESSION_COOKIE} cookie is not a validly %-encoded value; sign in again.`);
  }
}

export function tokenFromRequest(req: Pick<FastifyRequest, 'headers'>): string | undefined {
  return credentialFromRequest(req)?.secret;
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

  async authenticate(req: Pick<FastifyRequest, 'headers'>): Promise<Principal> {
    const secret = tokenFromRequest(req);
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
