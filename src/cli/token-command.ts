// `wsm token create | list | revoke` (owner role). create prints the secret alone on stdout, so
// scripts can capture it; the secret is never shown again, list shows everything else.
import { type Command, Option } from 'commander';
import { validateWorkspaceName } from '../core/names.js';
import type { ApiClient } from './client.js';
import { clientFor, formatOf, out, printData, withCommon, type CommonFlags } from './command-kit.js';
import { durationArg } from './duration.js';
import { CliError, EXIT } from './errors.js';
import { ago, table } from './table.js';

interface TokenView {
  id: string;
  name: string;
  role: string;
  workspace: string | null;
  expires_at: string | null;
  created_at: string;
  revoked_at: string | null;
}

function stateOf(t: TokenView, now = Date.now()): string {
  if (t.revoked_at) return 'revoked';
  if (t.expires_at && Date.parse(t.expires_at) <= now) return 'expired';
  return 'active';
}

/** A token by id, or by a name only one active token has. */
async function findToken(client: ApiClient, key: string): Promise<TokenView> {
  const { tokens } = await client.request<{ tokens: TokenView[] }>('GET', '/api/tokens');
  const byId = tokens.find((t) => t.id === key);
  if (byId) return byId;
  const named = tokens.filter((t) => t.name === key && stateOf(t) === 'active');
  if (named.length === 1) return named[0]!;
  if (named.length > 1) throw new CliError(`${named.length} active tokens are named ${key}; give the id of one`, EXIT.usage, named.map((t) => `${t.id}  ${t.role}  created ${t.created_at}`));
  throw new CliError(`no token has the id ${key}, and no active token has that name (see \`wsm token list\`)`, EXIT.notFound);
}

export function registerToken(program: Command): void {
  const token = program.command('token').description('API tokens (owner role)');

  withCommon(token.command('create').description('create a token and print its secret (shown only once)'))
    .addOption(new Option('--role <role>', 'what the token may do').choices(['owner', 'editor', 'viewer']).makeOptionMandatory())
    .option('--workspace <name>', 'limit the token to one workspace')
    .option('--expires-in <duration>', 'lifetime: 30m, 12h, 7d, or seconds (default: no expiry)', durationArg)
    .option('--name <name>', 'a name shown as the actor in operations and the audit log')
    .action(async (flags: CommonFlags & { role: string; workspace?: string; expiresIn?: number; name?: string }) => {
      const format = formatOf(flags, ['json', 'yaml', 'name']);
      if (flags.workspace !== undefined) {
        const errors = validateWorkspaceName(flags.workspace, 'workspace');
        if (errors.length) throw new CliError(`workspace: ${errors[0]!.message}`, EXIT.validation);
      }
      const body: Record<string, unknown> = { role: flags.role };
      if (flags.workspace !== undefined) body.workspace = flags.workspace;
      if (flags.expiresIn !== undefined) body.expires_in_seconds = flags.expiresIn;
      if (flags.name !== undefined) body.name = flags.name;
      const answer = await clientFor(flags).request<{ token: TokenView & { secret: string } }>('POST', '/api/tokens', body);
      if (format === 'json' || format === 'yaml') printData(format, answer.token);
      else if (format === 'name') out(answer.token.id);
      else out(answer.token.secret);
    });

  withCommon(token.command('list').description('list tokens: id, name, role, workspace, expiry and state (never their secrets)'))
    .action(async (flags: CommonFlags) => {
      const format = formatOf(flags, ['json', 'yaml', 'wide', 'name']);
      const { tokens } = await clientFor(flags).request<{ tokens: TokenView[] }>('GET', '/api/tokens');
      if (format === 'json' || format === 'yaml') return printData(format, { tokens });
      if (format === 'name') return tokens.forEach((t) => out(t.id));
      if (tokens.length === 0) return out('no tokens');
      const wide = format === 'wide';
      const when = (iso: string | null) => (iso === null ? '-' : wide ? iso : ago(iso));
      out(table(['ID', 'NAME', 'ROLE', 'WORKSPACE', 'STATE', 'EXPIRES', 'CREATED'], tokens.map((t) => [t.id, t.name || '-', t.role, t.workspace ?? '*', stateOf(t), when(t.expires_at), when(t.created_at)])));
    });

  withCommon(token.command('revoke').description('revoke a token: it stops working at once').argument('<id-or-name>', 'the token\'s id, or the name of exactly one active token'))
    .action(async (key: string, flags: CommonFlags) => {
      const format = formatOf(flags, ['json', 'yaml', 'name']);
      const client = clientFor(flags);
      const found = await findToken(client, key);
      if (found.revoked_at) throw new CliError(`token ${found.id} was already revoked at ${found.revoked_at}`, EXIT.validation);
      const answer = await client.request<{ revoked: string }>('DELETE', `/api/tokens/${encodeURIComponent(found.id)}`);
      if (format === 'json' || format === 'yaml') printData(format, answer);
      else if (format === 'name') out(answer.revoked);
      else out(`revoked token ${answer.revoked}${found.name ? ` (${found.name})` : ''}`);
    });
}
