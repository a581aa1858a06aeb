// What every API command shares: the global connection and output flags (given before or after the
// subcommand: `wsm --url … ws list` and `wsm ws list --url …` are the same), the client they make,
// and the way a command prints in the format asked for.
import { type Command, Option } from 'commander';
import { stringify } from 'yaml';
import { ApiClient } from './client.js';
import { CliError, EXIT } from './errors.js';

export const OUTPUT_FORMATS = ['json', 'yaml', 'wide', 'name'] as const;
/** `text` is the default: what a person reads. */
export type OutputFormat = (typeof OUTPUT_FORMATS)[number] | 'text';

export interface CommonFlags {
  url?: string;
  token?: string;
  tokenFile?: string;
  output?: OutputFormat;
  /** The same as `-o json`; set whenever the output is JSON, so either may be tested. */
  json?: boolean;
}

/** The flags every command takes, declared once on the program. */
export function addGlobalFlags(program: Command): void {
  program
    .option('--url <url>', 'the wsm API (WSM_URL, default http://127.0.0.1:6789)')
    .option('--token <token>', 'API token (WSM_TOKEN, else WSM_ADMIN_TOKEN)')
    .option('--token-file <path>', 'read the API token from a file (WSM_TOKEN_FILE; default: the owner token the server wrote to ./.wsm/owner-token, for a server on this machine)')
    .addOption(new Option('-o, --output <format>', 'output format (default: text for people)').choices(OUTPUT_FORMATS))
    .option('--json', 'the same as -o json');
}

/** Copies the program's flags into the command's own, so an action sees all of them in one object. */
function mergeGlobals(command: Command): void {
  const globals = command.optsWithGlobals<CommonFlags>();
  for (const key of ['url', 'token', 'tokenFile', 'output', 'json'] as const) {
    if (command.getOptionValue(key) === undefined && globals[key] !== undefined) command.setOptionValue(key, globals[key]);
  }
  const flags = command.opts<CommonFlags>();
  if (flags.json && flags.output !== undefined && flags.output !== 'json') throw new CliError(`--json and -o ${flags.output} contradict each other; give one`, EXIT.usage);
  if (flags.json) command.setOptionValue('output', 'json');
  if (flags.output === 'json') command.setOptionValue('json', true);
}

/** Marks a command as one that talks to the API: its action receives the global flags with its own. */
export function withCommon(cmd: Command): Command {
  return cmd.hook('preAction', (_parent, actionCommand) => mergeGlobals(actionCommand));
}

export const clientFor = (flags: CommonFlags) => new ApiClient(flags);

export const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The format asked for, when this command can print it; `text` when none was asked for. */
export function formatOf(flags: CommonFlags, allowed: readonly OutputFormat[]): OutputFormat {
  const format = flags.output ?? 'text';
  if (format === 'text' || allowed.includes(format)) return format;
  throw new CliError(`-o ${format} is not an output of this command; it prints ${['text (the default)', ...allowed.filter((f) => f !== 'text')].join(', ')}`, EXIT.usage);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** JSON or YAML of the same value: what -o json and -o yaml print. */
export function printData(format: 'json' | 'yaml', value: unknown): void {
  if (format === 'json') printJson(value);
  else process.stdout.write(stringify(value));
}

export function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}
