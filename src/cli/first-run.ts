// The first start: a server nobody can sign in to is no use, so when no owner can sign in (no
// WSM_ADMIN_TOKEN, no owner token in the store that still works), one owner token is made and its
// secret written to a file only wsm's user can read. The secret never goes to the log; the log and
// the terminal say where the file is. The CLI on this machine reads the file by itself.
import { randomUUID } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { TokenRecord } from '../core/types.js';
import { hashToken, newTokenSecret } from '../server/auth.js';
import type { Store } from '../store/store.js';

/** The file in the data dir that holds the first owner token's secret. */
export const OWNER_TOKEN_FILE = 'owner-token';

/** The name the first-run token carries: operations and the audit log show `token:first-run-owner`. */
const TOKEN_NAME = 'first-run-owner';

export function ownerTokenPath(dataDir: string): string {
  return join(dataDir, OWNER_TOKEN_FILE);
}

function works(token: TokenRecord, nowMs: number): boolean {
  return token.role === 'owner' && !token.workspace && !token.revoked_at && (!token.expires_at || Date.parse(token.expires_at) > nowMs);
}

/** Writes `text` to `path` with mode 0600 from the first byte, replacing any older file whole. */
async function writePrivate(path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  const file = await open(temporary, 'w', 0o600);
  try {
    await file.writeFile(text);
    await file.chmod(0o600); // the umask may have taken bits away, never added them; be exact anyway
  } finally {
    await file.close();
  }
  await rename(temporary, path).catch(async (err) => {
    await rm(temporary, { force: true });
    throw err;
  });
}

/**
 * Makes the first owner token when no owner could sign in, and returns the file its secret was
 * written to; undefined when an owner already can (then nothing is written or said).
 */
export async function ensureOwnerToken(store: Store, dataDir: string, adminTokenConfigured: boolean): Promise<string | undefined> {
  if (adminTokenConfigured) return undefined;
  const now = new Date();
  if ((await store.listTokens()).some((t) => works(t, now.getTime()))) return undefined;
  const secret = newTokenSecret();
  const token: TokenRecord = { id: randomUUID(), hash: hashToken(secret), name: TOKEN_NAME, role: 'owner', created_at: now.toISOString() };
  const path = ownerTokenPath(dataDir);
  // The file first: a token whose secret was never written anywhere would lock the owner out for good.
  await writePrivate(path, `${secret}\n`);
  await store.transaction(async (tx) => {
    await tx.insertToken(token);
    await tx.appendAudit({ at: token.created_at, actor: 'wsm', action: 'token_create', result: 'ok', detail: `role owner, name ${TOKEN_NAME}, first start: secret written to ${path}` });
  });
  return path;
}

/** What the terminal is told once, after the server listens. */
export function firstRunNotice(path: string, url: string): string {
  return [
    `wsm: first start: no owner could sign in, so an owner token was made and written to ${path} (readable by this user only).`,
    `wsm: sign in at ${url}/apps/workspaces with the token in that file; the wsm CLI on this machine reads it from there.`,
    '',
  ].join('\n');
}
