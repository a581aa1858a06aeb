// The `wsm` command. `serve` runs the control plane; the other commands talk to its HTTP API.
import { Command } from 'commander';
import { registerServe } from './serve-command.js';
import { VERSION } from './version.js';

const program = new Command();
program.name('wsm').description('wsm: a control plane for data workspaces (Mage Pro workspace API compatible)').version(VERSION);
registerServe(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`wsm: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
