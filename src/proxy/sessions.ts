// How a browser signs in to the workspace proxy. Its console cookie belongs to the API's origin and is
// never sent to the proxy's, so the API hands the browser a one-time ticket (a redirect to the proxy);
// the proxy trades it for a session cookie of its own origin. Both hold only a random id: the token
// secret stays in this process, and every request is still checked with it (revocation, expiry, grants).
// Kept in memory: after a restart a browser simply goes through the redirect again.
import { randomBytes } from 'node:crypto';

/** The name of the proxy's own cookie (never the API's oauth_token, so neither origin reads the other's). */
export const PROXY_SESSION_COOKIE = 'wsm_proxy_session';
/** A ticket is used at once by the redirect it travels in. */
const TICKET_TTL_MS = 60_000;
/** A proxy session lasts no longer than a working day; then the browser is sent through the redirect again. */
export const SESSION_TTL_MS = 12 * 3_600_000;
/** Bounds memory whatever the number of sign-ins; the oldest entries go first. */
const MAX_ENTRIES = 50_000;

interface Held<T> {
  value: T;
  until: number;
}

class ExpiringIds<T> {
  private readonly entries = new Map<string, Held<T>>();

  constructor(private readonly ttlMs: number) {}

  add(value: T, now = Date.now()): string {
    const id = randomBytes(32).toString('base64url');
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(id, { value, until: now + this.ttlMs });
    return id;
  }

  get(id: string, now = Date.now()): T | undefined {
    const held = this.entries.get(id);
    if (!held) return undefined;
    if (held.until <= now) {
      this.entries.delete(id);
      return undefined;
    }
    return held.value;
  }

  take(id: string, now = Date.now()): T | undefined {
    const value = this.get(id, now);
    this.entries.delete(id);
    return value;
  }
}

/** Tickets the API issues and the proxy redeems once, and the sessions they become. */
export class ProxyTickets {
  private readonly tickets = new ExpiringIds<{ secret: string; workspace: string }>(TICKET_TTL_MS);
  private readonly sessions = new ExpiringIds<string>(SESSION_TTL_MS);

  /** A ticket for a token the API has just verified, good for the one workspace it was asked for. */
  issue(secret: string, workspace: string): string {
    return this.tickets.add({ secret, workspace });
  }

  /**
   * Trades a ticket (once) for a session id; undefined when it is unknown, used, expired, or was issued
   * for another workspace (with host routing each workspace has its own origin and its own cookie).
   */
  redeem(ticket: string, workspace: string): string | undefined {
    const held = this.tickets.take(ticket);
    return held === undefined || held.workspace !== workspace ? undefined : this.sessions.add(held.secret);
  }

  /** The token secret behind a proxy session cookie. */
  secretOf(session: string): string | undefined {
    return this.sessions.get(session);
  }
}
