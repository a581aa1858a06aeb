// `wsm workspaces ...`: list, get, create, the actions, delete and logs, over the HTTP API.
import { type Command, InvalidArgumentError, Option } from 'commander';
import { parse } from 'yaml';
import { validateWorkspaceName } from '../core/names.js';
import { clientFor, collect, out, printJson, withCommon, type CommonFlags } from './command-kit.js';
import { containerConfigFrom, lifecycleConfigFrom, type ContainerFlags } from './config-input.js';
import { CliError, EXIT } from './errors.js';
import { follow, type OperationView } from './follow.js';
import { ago, table } from './table.js';
import { formatPlan } from './plan-output.js';
import type { ChangePlan } from '../core/change-plan.js';

interface WorkspaceView {
  name: string;
  cluster_type: string;
  url: string | null;
  proxy_url?: string | null;
  instance: { status: string; ip: string | null };
  container_config: string;
  lifecycle_config: Record<string, unknown>;
  desired_state: string;
  generation: number;
  observed_generation: number;
  status_message: string | null;
  conditions: { type: string; status: string; reason?: string; message?: string }[];
  deletion: unknown;
  activity: { last_activity_at: string | null; stops_at: string | null };
}

interface ActionAnswer {
  workspace: WorkspaceView;
  operation: OperationView | null;
}

interface WaitFlags extends CommonFlags {
  wait?: boolean;
  timeout: number;
}

const path = (name: string) => `/api/workspaces/${encodeURIComponent(name)}`;

function imageOf(containerConfig: string): string {
  try {
    const doc = parse(containerConfig) as { image?: unknown } | null;
    return typeof doc?.image === 'string' ? doc.image : '(default)';
  } catch {
    return '?';
  }
}

const statusOf = (ws: WorkspaceView) => (ws.deletion ? 'DELETING' : ws.instance.status);

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a whole number above 0.');
  return n;
}

function withWait(cmd: Command): Command {
  return cmd
    .option('--wait', 'follow the operation until it succeeds or fails (progress on stderr)')
    .option('--timeout <seconds>', 'how long --wait waits', positiveInt, 600);
}

/** Prints an action's outcome; --wait follows its operation. Exit 1 when the operation failed. */
async function finish(flags: WaitFlags, answer: ActionAnswer, label: string): Promise<void> {
  const client = clientFor(flags);
  let op = answer.operation;
  if (op && flags.wait) op = await follow(client, op, label, flags.timeout);
  if (flags.json) printJson({ workspace: answer.workspace, operation: op });
  else if (!op) out(`${label}: done`);
  else if (op.state === 'succeeded') out(`${label}: succeeded`);
  else if (op.state !== 'failed') out(`${label}: accepted (operation ${op.id} is ${op.state}; add --wait to follow it)`);
  if (op?.state === 'failed') throw new CliError(`${label} failed: ${op.error ?? 'no reason given'}`, EXIT.failed);
}

function describeWorkspace(ws: WorkspaceView): string {
  const rows: [string, string][] = [
    ['name', ws.name],
    ['status', statusOf(ws) + (ws.status_message ? ` (${ws.status_message})` : '')],
    ['desired', ws.desired_state],
    ['cluster type', ws.cluster_type],
    ['image', imageOf(ws.container_config)],
    ['url', ws.url ?? '-'],
    ...(ws.proxy_url ? [['proxy url', ws.proxy_url] as [string, string]] : []),
    ['generation', `${ws.observed_generation} of ${ws.generation} applied`],
    ['last activity', ago(ws.activity.last_activity_at)],
    ['stops at', ws.activity.stops_at ?? '-'],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  let text = rows.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${v}`).join('\n');
  if (ws.conditions.length) text += `\nconditions:\n${ws.conditions.map((c) => `  ${c.type}=${c.status}${c.reason ? ` ${c.reason}` : ''}${c.message ? `: ${c.message}` : ''}`).join('\n')}`;
  text += `\ncontainer_config:\n${ws.container_config.replace(/^/gm, '  ').trimEnd()}`;
  text += `\nlifecycle_config: ${JSON.stringify(ws.lifecycle_config)}`;
  return text;
}

export function registerWorkspaces(program: Command): void {
  const ws = program.command('workspaces').alias('ws').description('list, inspect, create, change and delete workspaces');

  withCommon(ws.command('list').description('list workspaces'))
    .option('--status <statuses>', 'only these statuses, comma-separated (RUNNING,STOPPED,...)')
    .option('--cluster-type <type>', 'only this cluster type (local, docker, k8s)')
    .option('--filter <text>', 'only names containing this text')
    .action(async (flags: CommonFlags & { status?: string; clusterType?: string; filter?: string }) => {
      const q = new URLSearchParams({ limit: '1000' });
      if (flags.status) q.set('status', flags.status);
      if (flags.clusterType) q.set('cluster_type', flags.clusterType);
      if (flags.filter) q.set('q', flags.filter);
      const client = clientFor(flags);
      const all: WorkspaceView[] = [];
      for (let offset: number | null = 0; offset !== null; ) {
        q.set('offset', String(offset));
        const page: { workspaces: WorkspaceView[]; metadata: { next_offset: number | null } } = await client.request('GET', `/api/workspaces?${q}`);
        all.push(...page.workspaces);
        offset = page.metadata.next_offset;
      }
      if (flags.json) return printJson({ workspaces: all });
      if (all.length === 0) return out('no workspaces');
      out(table(['NAME', 'STATUS', 'CLUSTER', 'IMAGE', 'URL', 'LAST ACTIVITY', 'STOPS'], all.map((w) => [w.name, statusOf(w), w.cluster_type, imageOf(w.container_config), w.url ?? '-', ago(w.activity.last_activity_at), w.activity.stops_at ? ago(w.activity.stops_at) : '-'])));
    });

  withCommon(ws.command('get').description('show one workspace').argument('<name>'))
    .action(async (name: string, flags: CommonFlags) => {
      const { workspace } = await clientFor(flags).request<{ workspace: WorkspaceView }>('GET', path(name));
      if (flags.json) printJson(workspace);
      else out(describeWorkspace(workspace));
    });

  withWait(withCommon(ws.command('create').description('create a workspace (owner role)').argument('<name>')))
    .addOption(new Option('--cluster-type <type>', 'local, docker or k8s (default: the server\'s)'))
    .option('--container-config <file>', 'container_config YAML file')
    .option('--lifecycle-config <file>', 'lifecycle_config as a JSON or YAML file')
    .option('--image <image>', 'the image, e.g. mageai/mageai:0.9.76')
    .option('--env <KEY=VALUE>', 'an environment variable (repeatable)', collect, [])
    .action(async (name: string, flags: WaitFlags & ContainerFlags & { clusterType?: string; lifecycleConfig?: string }) => {
      const nameErrors = validateWorkspaceName(name);
      if (nameErrors.length) throw new CliError(`name: ${nameErrors[0]!.message}`, EXIT.validation);
      const workspace: Record<string, unknown> = { name };
      if (flags.clusterType) workspace.cluster_type = flags.clusterType;
      const cc = containerConfigFrom(flags);
      if (cc !== undefined) workspace.container_config = cc;
      const lc = lifecycleConfigFrom(flags.lifecycleConfig);
      if (lc) workspace.lifecycle_config = lc;
      const answer = await clientFor(flags).request<ActionAnswer>('POST', '/api/workspaces', { workspace });
      await finish(flags, answer, `create ${name}`);
    });

  const simple: [string, string, string][] = [
    ['stop', 'stop', 'stop a workspace (its volume is kept)'],
    ['resume', 'resume', 'start a stopped workspace again'],
    ['add-to-ingress', 'add_to_ingress', 'expose a Kubernetes workspace on the shared Ingress'],
  ];
  for (const [command, action, description] of simple) {
    withWait(withCommon(ws.command(command).description(description).argument('<name>'))).action(async (name: string, flags: WaitFlags) => {
      const answer = await clientFor(flags).request<ActionAnswer>('PUT', path(name), { workspace: { action } });
      await finish(flags, answer, `${command} ${name}`);
    });
  }

  withWait(withCommon(ws.command('patch').description('change a workspace\'s config; it restarts with the new one').argument('<name>')))
    .option('--env <KEY=VALUE>', 'set an environment variable (repeatable)', collect, [])
    .option('--unset-env <KEY>', 'remove an environment variable (repeatable)', collect, [])
    .option('--image-tag <tag>', 'change only the tag of the image')
    .option('--container-config <file>', 'container_config YAML to merge (env by name, resources deeply)')
    .option('--lifecycle-config <file>', 'lifecycle_config as a JSON or YAML file')
    .option('--sync-cluster-env', 'copy the cluster\'s current env into the workspace again (update_workspace_settings)')
    .option('--dry-run', 'show what the patch would do on the workspace\'s runtime (live, restart, recreate) and change nothing')
    .action(async (name: string, flags: WaitFlags & ContainerFlags & { lifecycleConfig?: string; syncClusterEnv?: boolean; dryRun?: boolean }) => {
      const workspace: Record<string, unknown> = { action: 'patch' };
      const cc = containerConfigFrom(flags);
      if (cc !== undefined) workspace.container_config = cc;
      const lc = lifecycleConfigFrom(flags.lifecycleConfig);
      if (lc) workspace.lifecycle_config = lc;
      if (flags.syncClusterEnv) workspace.update_workspace_settings = true;
      if (Object.keys(workspace).length === 1) {
        throw new CliError('patch needs at least one of --env, --unset-env, --image-tag, --container-config, --lifecycle-config, --sync-cluster-env', EXIT.usage);
      }
      if (flags.dryRun) {
        const planned = await clientFor(flags).request<ActionAnswer & { plan: ChangePlan }>('PUT', path(name), { workspace: { ...workspace, dry_run: true } });
        if (flags.json) return printJson({ plan: planned.plan, workspace: planned.workspace });
        return out(formatPlan(name, planned.plan, planned.workspace.container_config));
      }
      const answer = await clientFor(flags).request<ActionAnswer & { plan?: ChangePlan }>('PUT', path(name), { workspace });
      if (!flags.json && answer.plan) out(`plan: ${answer.plan.summary}`);
      await finish(flags, answer, `patch ${name}`);
    });

  withWait(withCommon(ws.command('delete').description('delete a workspace (owner role); its volume is kept unless --delete-volume').argument('<name>')))
    .option('--delete-volume', 'also delete the persistent volume and its files')
    .action(async (name: string, flags: WaitFlags & { deleteVolume?: boolean }) => {
      const answer = await clientFor(flags).request<ActionAnswer>('DELETE', `${path(name)}?delete_volume=${flags.deleteVolume ? 'true' : 'false'}`);
      await finish(flags, answer, `delete ${name}`);
    });

  withCommon(ws.command('logs').description('recent operations of a workspace with their results and hook output (wsm keeps no container log stream; use the runtime\'s own tools for that)').argument('<name>'))
    .option('--limit <n>', 'how many operations', positiveInt, 20)
    .action(async (name: string, flags: CommonFlags & { limit: number }) => {
      const { operations } = await clientFor(flags).request<{ operations: (OperationView & { actor: string; created_at: string; finished_at: string | null })[] }>('GET', `${path(name)}/operations`);
      const ops = operations.slice(0, flags.limit);
      if (flags.json) return printJson({ operations: ops });
      if (ops.length === 0) return out('no operations');
      for (const op of ops.reverse()) {
        out(`${op.created_at}  ${op.action}  ${op.state}  by ${op.actor}${op.error ? `  error: ${op.error}` : ''}`);
        if (op.details) out(JSON.stringify(op.details, null, 2).replace(/^/gm, '    '));
      }
    });
}
