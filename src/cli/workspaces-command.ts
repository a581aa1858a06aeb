// `wsm workspaces ...`: list, get, create, the actions, delete and logs, over the HTTP API. Watching
// and waiting for a status are in watch-command.ts.
import { type Command, InvalidArgumentError, Option } from 'commander';
import { validateWorkspaceName } from '../core/names.js';
import type { ApiClient } from './client.js';
import { clientFor, collect, formatOf, out, printData, withCommon, type CommonFlags } from './command-kit.js';
import { checkOneStdin, containerConfigFrom, lifecycleConfigFrom, type ContainerFlags } from './config-input.js';
import { durationArg } from './duration.js';
import { CliError, EXIT } from './errors.js';
import { follow, type OperationView } from './follow.js';
import { formatPlan } from './plan-output.js';
import type { ChangePlan } from '../core/change-plan.js';
import { operationLog } from './operation-log.js';
import { registerWatch, watchWorkspaces } from './watch-command.js';
import { findWorkspace, listWorkspaces, workspacePath } from './workspace-api.js';
import { describeWorkspace, workspaceTable, type WorkspaceView } from './workspace-view.js';
import { table } from './table.js';

interface ActionAnswer {
  workspace: WorkspaceView | null;
  operation: OperationView | null;
}

interface WaitFlags extends CommonFlags {
  wait?: boolean;
  timeout: number;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a whole number above 0.');
  return n;
}

function withWait(cmd: Command): Command {
  return cmd
    .option('--wait', 'follow the operation until it succeeds or fails (progress on a terminal)')
    .option('--timeout <duration>', 'how long --wait waits: 90, 90s, 10m', durationArg, 600);
}

/**
 * Prints an action's outcome; --wait follows its operation first. What is printed is the workspace
 * as it is after the operation (none, once a delete succeeded), never the snapshot taken when the
 * request was answered beside an outcome that came later. Exit 1 when the operation failed.
 */
async function finish(flags: WaitFlags, client: ApiClient, name: string, answer: ActionAnswer, label: string): Promise<void> {
  const format = formatOf(flags, ['json', 'yaml', 'name']);
  let { workspace, operation: op } = answer;
  if (op && flags.wait) {
    op = await follow(client, op, label, flags.timeout, workspacePath(name));
    workspace = await findWorkspace(client, name);
  }
  if (op?.action === 'delete' && op.state === 'succeeded') workspace = null;
  if (format === 'json' || format === 'yaml') printData(format, { workspace, operation: op });
  else if (format === 'name') out(name);
  else if (!op) out(`${label}: done`);
  else if (op.state === 'succeeded') out(`${label}: succeeded`);
  else if (op.state !== 'failed') out(`${label}: accepted (operation ${op.id} is ${op.state}; add --wait to follow it)`);
  if (op?.state === 'failed') throw new CliError(`${label} failed: ${op.error ?? 'no reason given'}`, EXIT.failed);
}

type ListFlags = CommonFlags & { status?: string; clusterType?: string; filter?: string; dormant?: boolean; watch?: boolean };

interface DormancyReport {
  settings: { dormant_after_days: number | null; delete_dormant_after_days: number | null; delete_dormant_volume: boolean };
  workspaces: { name: string; dormant_since: string; deletes_at: string | null; warned_at: string | null; next_step: string | null; delete_volume: boolean }[];
}

export function registerWorkspaces(program: Command): void {
  const ws = program.command('workspaces').alias('ws').description('list, inspect, create, change, watch and delete workspaces');

  withCommon(ws.command('list').description('list workspaces (-o wide for more columns, -o name for names only)'))
    .option('--status <statuses>', 'only these statuses, comma-separated (RUNNING,STOPPED,...)')
    .option('--cluster-type <type>', 'only this cluster type (local, docker, k8s)')
    .option('--filter <text>', 'only names containing this text')
    .option('--dormant', 'only dormant workspaces (stopped longer than the cluster\'s dormant_after_days)')
    .option('-w, --watch', 'after the list, print each change as it happens (as `wsm ws watch`)')
    .action(async (flags: ListFlags) => {
      const format = formatOf(flags, ['json', 'yaml', 'wide', 'name']);
      const client = clientFor(flags);
      if (flags.watch) {
        if (flags.status || flags.clusterType || flags.filter || flags.dormant) throw new CliError('--watch shows every workspace; --status, --cluster-type and --filter cannot be used with it', EXIT.usage);
        return watchWorkspaces(client, format, undefined);
      }
      const q = new URLSearchParams();
      if (flags.status) q.set('status', flags.status);
      if (flags.clusterType) q.set('cluster_type', flags.clusterType);
      if (flags.filter) q.set('q', flags.filter);
      if (flags.dormant) q.set('dormant', 'true');
      const all = await listWorkspaces(client, q);
      if (format === 'json' || format === 'yaml') return printData(format, { workspaces: all });
      if (format === 'name') return all.forEach((w) => out(w.name));
      if (all.length === 0) return out('no workspaces');
      out(workspaceTable(all, format === 'wide'));
    });

  withCommon(ws.command('get').description('show one workspace').argument('<name>'))
    .option('-w, --watch', 'then print each change of it as it happens (as `wsm ws watch <name>`)')
    .action(async (name: string, flags: CommonFlags & { watch?: boolean }) => {
      const format = formatOf(flags, ['json', 'yaml', 'wide', 'name']);
      const client = clientFor(flags);
      if (flags.watch) return watchWorkspaces(client, format, name);
      const { workspace } = await client.request<{ workspace: WorkspaceView }>('GET', workspacePath(name));
      if (format === 'json' || format === 'yaml') printData(format, workspace);
      else if (format === 'name') out(workspace.name);
      else out(describeWorkspace(workspace));
    });

  withWait(withCommon(ws.command('create').description('create a workspace (owner role)').argument('<name>')))
    .addOption(new Option('--cluster-type <type>', 'local, docker or k8s (default: the server\'s)'))
    .option('--container-config <file>', 'container_config YAML file; - reads standard input')
    .option('--lifecycle-config <file>', 'lifecycle_config as a JSON or YAML file; - reads standard input')
    .option('--image <image>', 'the image, e.g. mageai/mageai:0.9.76')
    .option('--env <KEY=VALUE>', 'an environment variable (repeatable)', collect, [])
    .action(async (name: string, flags: WaitFlags & ContainerFlags & { clusterType?: string; lifecycleConfig?: string }) => {
      formatOf(flags, ['json', 'yaml', 'name']);
      const nameErrors = validateWorkspaceName(name);
      if (nameErrors.length) throw new CliError(`name: ${nameErrors[0]!.message}`, EXIT.validation);
      checkOneStdin(flags);
      const workspace: Record<string, unknown> = { name };
      if (flags.clusterType) workspace.cluster_type = flags.clusterType;
      const cc = containerConfigFrom(flags);
      if (cc !== undefined) workspace.container_config = cc;
      const lc = lifecycleConfigFrom(flags.lifecycleConfig);
      if (lc) workspace.lifecycle_config = lc;
      const client = clientFor(flags);
      const answer = await client.request<ActionAnswer>('POST', '/api/workspaces', { workspace });
      await finish(flags, client, name, answer, `create ${name}`);
    });

  withWait(withCommon(ws.command('stop').description('stop a workspace (its volume is kept); its pre-stop runs first').argument('<name>')))
    .option('--force', 'skip the pre-stop (lifecycle_config.pre_stop), even if it would fail')
    .action(async (name: string, flags: WaitFlags & { force?: boolean }) => {
      formatOf(flags, ['json', 'yaml', 'name']);
      const client = clientFor(flags);
      const answer = await client.request<ActionAnswer>('PUT', workspacePath(name), { workspace: { action: 'stop', ...(flags.force ? { force: true } : {}) } });
      await finish(flags, client, name, answer, `stop ${name}`);
    });

  withCommon(ws.command('dormant').description('dormant workspaces and what will be done about them: a dry run, nothing is changed (owner role)'))
    .action(async (flags: CommonFlags) => {
      const format = formatOf(flags, ['json', 'yaml', 'name']);
      const report = await clientFor(flags).request<DormancyReport>('GET', '/api/dormancy');
      if (format === 'json' || format === 'yaml') return printData(format, report);
      if (format === 'name') return report.workspaces.forEach((w) => out(w.name));
      const s = report.settings;
      if (s.dormant_after_days === null) return out('dormancy is off (cluster setting dormant_after_days)');
      const deletion = s.delete_dormant_after_days === null ? 'never deleted' : `deleted ${s.delete_dormant_after_days} days later with the volume ${s.delete_dormant_volume ? 'deleted' : 'kept'}`;
      out(`dormant after ${s.dormant_after_days} days stopped; ${deletion}`);
      if (report.workspaces.length === 0) return out('no dormant workspaces');
      out(table(['NAME', 'DORMANT SINCE', 'WARNED', 'DELETED AT', 'NEXT'], report.workspaces.map((w) => [w.name, w.dormant_since, w.warned_at ?? '-', w.deletes_at ?? '-', w.next_step ?? '-'])));
    });

  const simple: [string, string, string][] = [
    ['resume', 'resume', 'start a stopped workspace again'],
    ['add-to-ingress', 'add_to_ingress', 'expose a Kubernetes workspace on the shared Ingress'],
  ];
  for (const [command, action, description] of simple) {
    withWait(withCommon(ws.command(command).description(description).argument('<name>'))).action(async (name: string, flags: WaitFlags) => {
      formatOf(flags, ['json', 'yaml', 'name']);
      const client = clientFor(flags);
      const answer = await client.request<ActionAnswer>('PUT', workspacePath(name), { workspace: { action } });
      await finish(flags, client, name, answer, `${command} ${name}`);
    });
  }

  withWait(withCommon(ws.command('patch').description('change a workspace\'s config; it restarts with the new one').argument('<name>')))
    .option('--env <KEY=VALUE>', 'set an environment variable (repeatable)', collect, [])
    .option('--unset-env <KEY>', 'remove an environment variable (repeatable)', collect, [])
    .option('--image-tag <tag>', 'change only the tag of the image')
    .option('--container-config <file>', 'container_config YAML to merge (env by name, resources deeply); - reads standard input')
    .option('--lifecycle-config <file>', 'lifecycle_config as a JSON or YAML file; - reads standard input')
    .option('--sync-cluster-env', 'copy the cluster\'s current env into the workspace again (update_workspace_settings)')
    .option('--dry-run', 'show what the patch would do on the workspace\'s runtime (live, restart, recreate) and change nothing')
    .action(async (name: string, flags: WaitFlags & ContainerFlags & { lifecycleConfig?: string; syncClusterEnv?: boolean; dryRun?: boolean }) => {
      const format = formatOf(flags, ['json', 'yaml', 'name']);
      checkOneStdin(flags);
      const workspace: Record<string, unknown> = { action: 'patch' };
      const cc = containerConfigFrom(flags);
      if (cc !== undefined) workspace.container_config = cc;
      const lc = lifecycleConfigFrom(flags.lifecycleConfig);
      if (lc) workspace.lifecycle_config = lc;
      if (flags.syncClusterEnv) workspace.update_workspace_settings = true;
      if (Object.keys(workspace).length === 1) {
        throw new CliError('patch needs at least one of --env, --unset-env, --image-tag, --container-config, --lifecycle-config, --sync-cluster-env', EXIT.usage);
      }
      const client = clientFor(flags);
      if (flags.dryRun) {
        const planned = await client.request<ActionAnswer & { plan: ChangePlan; workspace: WorkspaceView }>('PUT', workspacePath(name), { workspace: { ...workspace, dry_run: true } });
        if (format === 'json' || format === 'yaml') return printData(format, { plan: planned.plan, workspace: planned.workspace });
        return out(formatPlan(name, planned.plan, planned.workspace.container_config));
      }
      const answer = await client.request<ActionAnswer & { plan?: ChangePlan }>('PUT', workspacePath(name), { workspace });
      if (format === 'text' && answer.plan) out(`plan: ${answer.plan.summary}`);
      await finish(flags, client, name, answer, `patch ${name}`);
    });

  withWait(withCommon(ws.command('delete').description('delete a workspace (owner role); its volume is kept unless --delete-volume').argument('<name>')))
    .option('--delete-volume', 'also delete the persistent volume and its files')
    .action(async (name: string, flags: WaitFlags & { deleteVolume?: boolean }) => {
      formatOf(flags, ['json', 'yaml', 'name']);
      const client = clientFor(flags);
      const answer = await client.request<ActionAnswer>('DELETE', `${workspacePath(name)}?delete_volume=${flags.deleteVolume ? 'true' : 'false'}`);
      await finish(flags, client, name, answer, `delete ${name}`);
    });

  withCommon(ws.command('logs').description('recent operations of a workspace with their results and hook output (wsm keeps no container log stream; use the runtime\'s own tools for that)').argument('<name>'))
    .option('--limit <n>', 'how many operations', positiveInt, 20)
    .action(async (name: string, flags: CommonFlags & { limit: number }) => {
      const format = formatOf(flags, ['json', 'yaml']);
      const { operations } = await clientFor(flags).request<{ operations: OperationView[] }>('GET', `${workspacePath(name)}/operations`);
      const ops = operations.slice(0, flags.limit);
      if (format === 'json' || format === 'yaml') return printData(format, { operations: ops });
      if (ops.length === 0) return out('no operations');
      out(operationLog(ops));
    });

  registerWatch(ws);
}
