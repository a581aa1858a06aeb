// `wsm token create`: a new API token. The secret alone goes to stdout, so scripts can capture it.
import { type Command, InvalidArgumentError, Option } from 'commander';
import { validateWorkspaceName } from '../core/names.js';
import { clientFor, out, printJson, withCommon, type CommonFlags } from './command-kit.js';
import { parseDuration } from './duration.js';
import { CliError, EXIT } from './errors.js';

function duration(value: string): number {
  const seconds = parseDuration(value);
  if (seconds === undefined) throw new InvalidArgumentError('must be a duration such as 30m, 12h, 7d or a number of seconds.');
  return seconds;
}

export function registerToken(program: Command): void {
  const token = program.command('token').description('API tokens (owner role)');
  withCommon(token.command('create').description('create a token and print its secret (shown only once)'))
    .addOption(new Option('--role <role>', 'what the token may do').choices(['owner', 'editor', 'viewer']).makeOptionMandatory())
    .option('--workspace <name>', 'limit the token to one workspace')
    .option('--expires-in <duration>', 'lifetime: 30m, 12h, 7d, or seconds (default: no expiry)', duration)
    .option('--name <name>', 'a name shown as the actor in operations and the audit log')
    .action(async (flags: CommonFlags & { role: string; workspace?: string; expiresIn?: number; name?: string }) => {
      if (flags.workspace !== undefined) {
        const errors = validateWorkspaceName(flags.workspace, 'workspace');
        if (errors.length) throw new CliError(`workspace: ${errors[0]!.message}`, EXIT.validation);
      }
      const body: Record<string, unknown> = { role: flags.role };
      if (flags.workspace !== undefined) body.workspace = flags.workspace;
      if (flags.expiresIn !== undefined) body.expires_in_seconds = flags.expiresIn;
      if (flags.name !== undefined) body.name = flags.name;
      const answer = await clientFor(flags).request<{ token: { secret: string } }>('POST', '/api/tokens', body);
      if (flags.json) printJson(answer.token);
      else out(answer.token.secret);
    });
}
