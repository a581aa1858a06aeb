// Which token the CLI sends. In order: --token, WSM_TOKEN, WSM_ADMIN_TOKEN, the file named by
// --token-file or WSM_TOKEN_FILE, and last the owner token the server wrote to its data dir on first
// start (WSM_DATA_DIR, else ./.wsm). That last one is a secret of this machine's server, so it is
// sent only to a server on this machine (a loopback URL), never to whatever --url names.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CliError, EXIT } from './errors.js';
import { ownerTokenPath } from './first-run.js';

export interface TokenFlags {
  token?: string;
  tokenFile?: string;
}

export interface ResolvedToken {
  secret: string;
  /** Said in a 401's hint: where the token that was refused came from. */
  source: string;
}

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The file's secret; undefined when it is missing or empty. `named`: the user asked for this file. */
function readSecret(path: string, named: boolean): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // The default file is only a guess: unreadable (another user's server, say) is the same as absent.
    if (code === 'ENOENT' || !named) return undefined;
    throw new CliError(`cannot read the token file ${path} (${code ?? (err as Error).message})`, EXIT.usage);
  }
  return text.trim() || undefined;
}

export function resolveToken(flags: TokenFlags, baseUrl: string, env: NodeJS.ProcessEnv = process.env): ResolvedToken | undefined {
  if (flags.token) return { secret: flags.token, source: '--token' };
  if (env.WSM_TOKEN) return { secret: env.WSM_TOKEN, source: 'WSM_TOKEN' };
  if (env.WSM_ADMIN_TOKEN) return { secret: env.WSM_ADMIN_TOKEN, source: 'WSM_ADMIN_TOKEN' };
  const named = flags.tokenFile ?? env.WSM_TOKEN_FILE;
  if (named) {
    const secret = readSecret(named, true);
    if (!secret) throw new CliError(`the token file ${named} is missing or empty (${flags.tokenFile ? '--token-file' : 'WSM_TOKEN_FILE'})`, EXIT.usage);
    return { secret, source: named };
  }
  if (!isLoopback(baseUrl)) return undefined;
  const firstRun = ownerTokenPath(resolve(env.WSM_DATA_DIR || '.wsm'));
  const secret = readSecret(firstRun, false);
  return secret ? { secret, source: firstRun } : undefined;
}
