// The `wsm` command. `serve` runs the control plane; the other commands talk to its HTTP API.
// Connection and output flags are the program's, so they go before or after the subcommand.
// Exit codes: 0 ok, 1 action failed, 2 usage, 3 not found, 4 auth, 5 validation, 6 unreachable/5xx.
import { Command, CommanderError } from 'commander';
import { addGlobalFlags } from './command-kit.js';
import { registerCompletion } from './completion-command.js';
import { CliError, EXIT } from './errors.js';
import { registerServe } from './serve-command.js';
import { registerToken } from './token-command.js';
import { registerWorkspaces } from './workspaces-command.js';
import { VERSION } from './version.js';

const program = new Command();
program.name('wsm').description('wsm: a control plane for data workspaces (Mage Pro workspace API compatible)').version(VERSION);
// Commander would exit with 1 on a bad flag; set before the commands so they inherit it.
program.exitOverride();
program.showHelpAfterError('(add --help for usage)');
// A subcommand's help lists the program's flags too: they work there as well.
program.configureHelp({ showGlobalOptions: true });
addGlobalFlags(program);
registerServe(program);
registerWorkspaces(program);
registerToken(program);
registerCompletion(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // Commander has printed the message or the help already.
    process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.usage);
  }
  if (err instanceof CliError) {
    process.stderr.write(`error: ${err.message}\n${err.details.map((d) => `  ${d}\n`).join('')}`);
    process.exit(err.exitCode);
  }
  process.stderr.write(`wsm: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(EXIT.failed);
});
