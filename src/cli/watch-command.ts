// `wsm ws watch [name]` prints workspaces, then each change as the server announces it, until
// interrupted. `wsm ws wait <name> --for=status=RUNNING` returns once the workspace is in that
// status (or, with --for=delete, gone), and fails when the timeout comes first.
import { type Command, InvalidArgumentError } from 'commander';
import { INSTANCE_STATUSES } from '../core/types.js';
import { workspaceChanges } from './changes.js';
import type { ApiClient } from './client.js';
import { clientFor, formatOf, out, printData, withCommon, type CommonFlags, type OutputFormat } from './command-kit.js';
import { durationArg } from './duration.js';
import { CliError, EXIT } from './errors.js';
import { columnWidths, tableLine } from './table.js';
import { findWorkspace, listWorkspaces } from './workspace-api.js';
import { headers, row, statusOf, type WorkspaceView } from './workspace-view.js';

/** What a person would call a change of what a format shows: the time-relative columns alone are none. */
function visibleState(w: WorkspaceView, format: OutputFormat): string {
  if (format === 'text' || format === 'wide') return JSON.stringify([...row(w, format === 'wide').slice(0, 5), w.activity.stops_at]);
  return JSON.stringify([statusOf(w), w.url, w.desired_state, w.generation, w.observed_generation, w.status_message, w.container_config, w.activity.stops_at]);
}

/** Rows come later than the header, so columns start wide enough for typical values. */
const MIN_WIDTHS = [16, 12, 7, 16, 22, 13, 8, 7, 10, 15];

/** Prints each workspace once per visible change, in the chosen format. */
class WatchPrinter {
  private readonly seen = new Map<string, string>();
  private widths: number[] | undefined;

  constructor(private readonly format: OutputFormat) {}

  /** The first batch: with text and wide, the header and columns sized to it. */
  initial(all: WorkspaceView[]): void {
    if (this.format === 'text' || this.format === 'wide') {
      const wide = this.format === 'wide';
      if (!this.widths) {
        this.widths = columnWidths(headers(wide), all.map((w) => row(w, wide))).map((width, i) => Math.max(width, MIN_WIDTHS[i] ?? 0));
        out(tableLine(headers(wide), this.widths));
      }
    }
    for (const w of all) this.workspace(w);
  }

  workspace(w: WorkspaceView): void {
    const state = visibleState(w, this.format);
    if (this.seen.get(w.name) === state) return;
    this.seen.set(w.name, state);
    if (this.format === 'json') out(JSON.stringify({ event: 'workspace', workspace: w }));
    else if (this.format === 'yaml') printData('yaml', [{ event: 'workspace', workspace: w }]);
    else if (this.format === 'name') out(w.name);
    else out(tableLine(row(w, this.format === 'wide'), this.widths ?? []));
  }

  deleted(name: string): void {
    if (!this.seen.delete(name)) return;
    if (this.format === 'json') out(JSON.stringify({ event: 'deleted', name }));
    else if (this.format === 'yaml') printData('yaml', [{ event: 'deleted', name }]);
    else if (this.format === 'name') out(name);
    else {
      const cells = headers(this.format === 'wide').map(() => '-');
      cells[0] = name;
      cells[1] = 'DELETED';
      out(tableLine(cells, this.widths ?? []));
    }
  }
}

/** Runs until interrupted (or the server cannot be reached again). `name` limits it to one workspace. */
export async function watchWorkspaces(client: ApiClient, format: OutputFormat, name: string | undefined): Promise<void> {
  const printer = new WatchPrinter(format);
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  for await (const change of workspaceChanges(client, stop.signal)) {
    if (change.kind === 'sync') {
      if (name === undefined) {
        const all = await listWorkspaces(client);
        printer.initial(all);
      } else {
        const one = await findWorkspace(client, name);
        if (!one) throw new CliError(`Workspace ${name} does not exist.`, EXIT.notFound);
        printer.initial([one]);
      }
    } else if (change.kind === 'workspace') {
      if (name === undefined || change.workspace.name === name) printer.workspace(change.workspace);
    } else if (name === undefined || change.name === name) printer.deleted(change.name);
  }
}

type Goal = { status: string[] } | { deleted: true };

function parseGoal(text: string): Goal {
  if (text === 'delete') return { deleted: true };
  const m = /^status=(.+)$/i.exec(text);
  const allowed = [...INSTANCE_STATUSES, 'DELETING'];
  if (!m) throw new InvalidArgumentError('must be status=<STATUS>[,<STATUS>…] or delete, e.g. --for=status=RUNNING.');
  const status = m[1]!.split(',').map((s) => s.trim().toUpperCase());
  const unknown = status.filter((s) => !allowed.includes(s));
  if (unknown.length) throw new InvalidArgumentError(`${unknown.join(', ')}: not a status; statuses are ${allowed.join(', ')}.`);
  return { status };
}

const describeGoal = (goal: Goal) => ('deleted' in goal ? 'deleted' : goal.status.join(' or '));

export function registerWatch(ws: Command): void {
  withCommon(ws.command('watch').description('print workspaces, then every change as it happens, until interrupted (Ctrl-C)').argument('[name]', 'only this workspace'))
    .action(async (name: string | undefined, flags: CommonFlags) => {
      const format = formatOf(flags, ['json', 'yaml', 'wide', 'name']);
      await watchWorkspaces(clientFor(flags), format, name);
    });

  withCommon(ws.command('wait').description('wait until a workspace is in a status, or deleted; exit 1 if the timeout comes first').argument('<name>'))
    .requiredOption('--for <condition>', 'status=RUNNING (or several: status=STOPPED,FAILED), or delete', parseGoal)
    .option('--timeout <duration>', 'how long to wait: 90, 90s, 10m', durationArg, 300)
    .action(async (name: string, flags: CommonFlags & { for: Goal; timeout: number }) => {
      const format = formatOf(flags, ['json', 'yaml', 'name']);
      const goal = flags.for;
      const client = clientFor(flags);
      const deadline = AbortSignal.timeout(flags.timeout * 1000);
      let last: WorkspaceView | null = null;
      const met = (w: WorkspaceView | null) => ('deleted' in goal ? w === null : w !== null && goal.status.includes(statusOf(w)));
      let done = false;
      for await (const change of workspaceChanges(client, deadline)) {
        if (change.kind === 'sync') {
          last = await findWorkspace(client, name);
          if (last === null && !('deleted' in goal)) throw new CliError(`Workspace ${name} does not exist.`, EXIT.notFound);
        } else if (change.kind === 'workspace' && change.workspace.name === name) last = change.workspace;
        else if (change.kind === 'deleted' && change.name === name) {
          if (!('deleted' in goal)) throw new CliError(`${name} was deleted while waiting for it to be ${describeGoal(goal)}`, EXIT.failed);
          last = null;
        } else continue;
        if ((done = met(last))) break;
      }
      if (!done) {
        const now = last ? `it is ${statusOf(last)}${last.status_message ? ` (${last.status_message})` : ''}` : 'it does not exist';
        throw new CliError(`timed out after ${flags.timeout}s waiting for ${name} to be ${describeGoal(goal)}; ${now}`, EXIT.failed);
      }
      if (format === 'json' || format === 'yaml') printData(format, { workspace: last });
      else if (format === 'name') out(name);
      else out(`${name}: ${describeGoal(goal) === 'deleted' ? 'deleted' : statusOf(last!)}`);
    });
}
