// How a workspace reads on a terminal: the table rows of list and watch (narrow and -o wide) and
// the description `get` prints. The API's JSON is what -o json and -o yaml print, unchanged.
import { parse } from 'yaml';
import { ago, table } from './table.js';

export interface WorkspaceView {
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
  restart_policy: string;
  restart_count: number;
  next_restart_at: string | null;
  last_termination: { reason: string; exit_code: number | null; signal: string | null; oom_killed: boolean; finished_at: string } | null;
  deletion: unknown;
  activity: { last_activity_at: string | null; stops_at: string | null };
  next_autostart_at?: string | null;
  next_autostop_at?: string | null;
  dormant?: boolean;
  dormant_since?: string | null;
  dormant_deletes_at?: string | null;
}

export function imageOf(containerConfig: string): string {
  try {
    const doc = parse(containerConfig) as { image?: unknown } | null;
    return typeof doc?.image === 'string' ? doc.image : '(default)';
  } catch {
    return '?';
  }
}

export const statusOf = (ws: WorkspaceView) => (ws.deletion ? 'DELETING' : ws.instance.status);

const HEADERS = ['NAME', 'STATUS', 'RESTARTS', 'CLUSTER', 'IMAGE', 'URL', 'LAST ACTIVITY', 'STOPS'];
const WIDE_HEADERS = [...HEADERS, 'DESIRED', 'GENERATION', 'IP', 'MESSAGE'];

export function headers(wide: boolean): string[] {
  return wide ? WIDE_HEADERS : HEADERS;
}

export function row(w: WorkspaceView, wide: boolean): string[] {
  const cells = [w.name, statusOf(w), String(w.restart_count ?? 0), w.cluster_type, imageOf(w.container_config), w.url ?? '-', ago(w.activity.last_activity_at), w.activity.stops_at ? ago(w.activity.stops_at) : '-'];
  if (!wide) return cells;
  return [...cells, w.desired_state, `${w.observed_generation}/${w.generation}`, w.instance.ip ?? '-', w.status_message ?? '-'];
}

export function workspaceTable(all: WorkspaceView[], wide: boolean): string {
  return table(headers(wide), all.map((w) => row(w, wide)));
}

function describeEnd(t: NonNullable<WorkspaceView['last_termination']>): string {
  const code = t.exit_code === null ? 'exit code unknown' : `exit code ${t.exit_code}${t.signal ? ` (${t.signal})` : ''}`;
  return `${t.reason}, ${code}${t.oom_killed ? ', out of memory' : ''}, ${t.finished_at}`;
}

export function describeWorkspace(ws: WorkspaceView): string {
  const rows: [string, string][] = [
    ['name', ws.name],
    ['status', statusOf(ws) + (ws.status_message ? ` (${ws.status_message})` : '')],
    ['desired', ws.desired_state],
    ['cluster type', ws.cluster_type],
    ['image', imageOf(ws.container_config)],
    ['url', ws.url ?? '-'],
    ...(ws.proxy_url ? [['proxy url', ws.proxy_url] as [string, string]] : []),
    ['generation', `${ws.observed_generation} of ${ws.generation} applied`],
    ['restarts', `${ws.restart_count} (restart_policy ${ws.restart_policy})${ws.next_restart_at ? `, next at ${ws.next_restart_at}` : ''}`],
    ['last end', ws.last_termination ? describeEnd(ws.last_termination) : '-'],
    ['last activity', ago(ws.activity.last_activity_at)],
    ['stops at', ws.activity.stops_at ?? '-'],
    ['next start', ws.next_autostart_at ?? '-'],
    ['next stop', ws.next_autostop_at ?? '-'],
    ...(ws.dormant ? [['dormant', `since ${ws.dormant_since}${ws.dormant_deletes_at ? `, deleted at ${ws.dormant_deletes_at}` : ''}`] as [string, string]] : []),
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  let text = rows.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${v}`).join('\n');
  if (ws.conditions.length) text += `\nconditions:\n${ws.conditions.map((c) => `  ${c.type}=${c.status}${c.reason ? ` ${c.reason}` : ''}${c.message ? `: ${c.message}` : ''}`).join('\n')}`;
  text += `\ncontainer_config:\n${ws.container_config.replace(/^/gm, '  ').trimEnd()}`;
  text += `\nlifecycle_config: ${JSON.stringify(ws.lifecycle_config)}`;
  return text;
}
