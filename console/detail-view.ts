// One workspace: its state, actions, container_config editor, lifecycle form, cluster env sync,
// recent operations (with hook output) and conditions, all kept current by the live feed.
import { ApiError, api, wsPath } from './api.js';
import { runAction } from './actions.js';
import { containerForm, type Patch } from './container-form.js';
import { clear, h } from './dom.js';
import { errorList } from './error-list.js';
import { absolute, imageOf, relative, statusTone } from './format.js';
import { lifecycleForm } from './lifecycle-form.js';
import { canAct, publish, subscribe } from './state.js';
import type { Operation, Workspace } from './types.js';
import { actionButtons, statusBadge } from './workspace-actions.js';

function operationsTable(ops: Operation[]): HTMLElement {
  if (ops.length === 0) return h('p', { class: 'muted' }, 'No operations yet.');
  return h('div', { class: 'table-wrap' }, h('table', { class: 'ops' },
    h('thead', {}, h('tr', {}, ['Action', 'State', 'By', 'Started', 'Finished', 'Result'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, ops.map((op) => h('tr', { 'data-op': op.id },
      h('td', { 'data-label': 'Action' }, op.action.replace(/_/g, ' ')),
      h('td', { 'data-label': 'State' }, h('span', { class: `status ${op.state === 'succeeded' ? 'ok' : op.state === 'failed' ? 'bad' : 'busy'}` }, h('span', { class: 'dot', 'aria-hidden': 'true' }), op.state)),
      h('td', { 'data-label': 'By' }, op.actor),
      h('td', { 'data-label': 'Started', title: absolute(op.started_at ?? op.created_at) }, relative(op.started_at ?? op.created_at)),
      h('td', { 'data-label': 'Finished', title: absolute(op.finished_at) }, relative(op.finished_at)),
      h('td', { 'data-label': 'Result' }, op.error ? h('span', { class: 'bad-text' }, op.error) : op.state === 'succeeded' ? 'ok' : '',
        op.details ? h('details', {}, h('summary', {}, op.details.plan ? 'Plan and output' : 'Hook output'), h('pre', {}, JSON.stringify(op.details, null, 2))) : null),
    )))));
}

/** How the instance's last run ended, with its last lines when the engine kept them. */
function lastEnd(ws: Workspace): string | Node {
  const t = ws.last_termination;
  if (!t) return '—';
  const code = t.exit_code === null ? 'exit code unknown' : `exit code ${t.exit_code}${t.signal ? ` (${t.signal})` : ''}`;
  const line = `${t.reason}, ${code}${t.oom_killed ? ', out of memory' : ''}, ${relative(t.finished_at)}`;
  return t.log_tail ? h('div', {}, line, h('details', {}, h('summary', {}, 'Last lines'), h('pre', {}, t.log_tail))) : line;
}

function conditionsTable(ws: Workspace): HTMLElement {
  if (ws.conditions.length === 0) return h('p', { class: 'muted' }, 'No conditions reported.');
  return h('div', { class: 'table-wrap' }, h('table', { class: 'conditions' },
    h('thead', {}, h('tr', {}, ['Type', 'Status', 'Reason', 'Message', 'Since'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, ws.conditions.map((c) => h('tr', {},
      h('td', { 'data-label': 'Type' }, c.type),
      h('td', { 'data-label': 'Status' }, c.status),
      h('td', { 'data-label': 'Reason' }, c.reason ?? ''),
      h('td', { 'data-label': 'Message' }, c.message ?? ''),
      h('td', { 'data-label': 'Since', title: absolute(c.last_transition_time) }, relative(c.last_transition_time)))))));
}

/** The next scheduled start and stop, in the viewer's time and relative to now. */
function scheduleText(ws: Workspace): string {
  const s = ws.lifecycle_config.schedule;
  if (!s) return 'none';
  const at = (label: string, t: string | null | undefined) => (t ? `${label} ${relative(t)} (${absolute(t)})` : null);
  const parts = [at('starts', ws.next_autostart_at), at('stops', ws.next_autostop_at)].filter(Boolean);
  return `${parts.join(', ')} · ${[s.autostart, s.autostop].filter(Boolean).join(' / ')} ${s.timezone}`;
}

export function detailView(root: HTMLElement, name: string): () => void {
  let stop: (() => void) | undefined;
  let gone = false;
  clear(root);
  root.append(h('p', { class: 'muted' }, `Loading ${name}…`));
  // The forms depend on the role and config, so the page is built once the workspace is known.
  api<{ workspace: Workspace }>('GET', wsPath(name)).then(({ workspace }) => {
    if (gone) return;
    publish({ workspace });
    stop = mount(root, workspace);
  }, (err: Error) => {
    if (gone) return;
    clear(root);
    root.append(h('p', {}, h('a', { href: '#/' }, '← All workspaces')), h('h1', {}, name), errorList([], err.message));
  });
  return () => {
    gone = true;
    stop?.();
  };
}

function mount(root: HTMLElement, initial: Workspace): () => void {
  const name = initial.name;
  let ws: Workspace | undefined = initial;
  let ops: Operation[] = [];
  const summary = h('section', { class: 'summary', 'aria-label': 'State' });
  const opsBox = h('section', { class: 'card', 'aria-labelledby': 'ops-title' });
  const condBox = h('section', { class: 'card', 'aria-labelledby': 'cond-title' });
  const editable = () => Boolean(ws && canAct(ws));

  const lifecycle = lifecycleForm(ws?.lifecycle_config, !editable());
  const lifecycleBox = h('div', {}, lifecycle.el);
  const lifecycleErrors = h('div');

  const renderSummary = () => {
    clear(summary);
    if (!ws) return;
    const status = ws.deletion ? 'DELETING' : ws.instance.status;
    summary.append(
      h('div', { class: 'toolbar' }, h('h1', {}, ws.name), statusBadge(ws, statusTone(status)), h('div', { class: 'actions' }, actionButtons(ws, (a) => a === 'delete' && (location.hash = '#/')))),
      ws.status_message ? h('p', { class: 'muted status-message' }, ws.status_message) : '',
      h('dl', { class: 'facts' },
        ...([
          ['Cluster', ws.cluster_type + (ws.namespace ? ` (${ws.namespace})` : '')],
          ['Image', imageOf(ws.container_config)],
          ['URL', ws.url ? h('a', { href: ws.url, target: '_blank', rel: 'noopener' }, ws.url) : '—'],
          // The proxy's address opens the workspace signed in, and wakes it when wake_on_request is on.
          ...(ws.proxy_url ? [['Through the proxy', h('a', { href: ws.proxy_url, target: '_blank', rel: 'noopener' }, ws.proxy_url)] as [string, Node]] : []),
          ['Desired', ws.desired_state],
          ['Generation', `${ws.observed_generation} of ${ws.generation} applied`],
          ['Restarts', `${ws.restart_count} (restart policy ${ws.restart_policy})${ws.next_restart_at ? `; next ${relative(ws.next_restart_at)} (${absolute(ws.next_restart_at)})` : ''}`],
          ['Last end', lastEnd(ws)],
          ['Last activity', `${relative(ws.activity.last_activity_at)}${ws.activity.last_activity_source ? ` (${ws.activity.last_activity_source})` : ''}`],
          ['Stops when idle', ws.activity.stops_at ? `${relative(ws.activity.stops_at)} (${absolute(ws.activity.stops_at)})` : ws.lifecycle_config.termination_policy.enable_auto_termination ? 'when running and idle' : 'never'],
          ['Schedule', scheduleText(ws)],
          ...(ws.dormant ? [['Dormant', `since ${absolute(ws.dormant_since ?? null)}${ws.dormant_deletes_at ? `; deleted ${relative(ws.dormant_deletes_at)} (${absolute(ws.dormant_deletes_at)}) unless resumed` : ''}`] as [string, string]] : []),
          ['Ingress', ws.ingress_enabled ? 'added' : 'no'],
        ] as [string, string | Node][]).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    );
    clear(condBox);
    condBox.append(h('h2', { id: 'cond-title' }, 'Conditions'), conditionsTable(ws));
  };

  const renderOps = () => {
    clear(opsBox);
    opsBox.append(h('h2', { id: 'ops-title' }, 'Recent operations'), operationsTable(ops.slice(0, 20)));
  };

  const loadOps = async () => {
    ops = (await api<{ operations: Operation[] }>('GET', `${wsPath(name)}/operations`)).operations;
    renderOps();
  };

  const patch: Patch = async (body, errorsBox, onErrors) => {
    clear(errorsBox);
    try {
      await runAction(name, 'patch', body, { quiet: true });
      return true;
    } catch (err) {
      if (err instanceof ApiError) {
        const rest = onErrors ? onErrors(err.errors) : err.errors;
        // Errors the editor marked at their lines need no second listing.
        if (rest.length > 0 || err.errors.length === 0) errorsBox.append(errorList(rest, err.message));
      }
      return false;
    }
  };

  const container = containerForm(name, initial, editable(), patch);

  const saveLifecycle = h('button', { type: 'submit' }, 'Save lifecycle');
  const lifecycleFormEl = h('form', { class: 'card', onsubmit: async (e: Event) => {
    e.preventDefault();
    saveLifecycle.disabled = true;
    await patch({ lifecycle_config: lifecycle.value() }, lifecycleErrors);
    saveLifecycle.disabled = false;
  } }, lifecycleBox, lifecycleErrors, editable() ? h('div', { class: 'buttons' }, saveLifecycle) : null);

  const syncErrors = h('div');
  const syncBox = h('section', { class: 'card', 'aria-labelledby': 'sync-title' },
    h('h2', { id: 'sync-title' }, 'Cluster environment'),
    h('p', { class: 'muted small' }, 'Copy the cluster\'s current environment variables into this workspace again (update_workspace_settings). The workspace restarts with them.'),
    h('button', { type: 'button', class: 'secondary', 'data-action': 'sync', onclick: async (e: Event) => {
      const b = e.currentTarget as HTMLButtonElement;
      b.disabled = true;
      await patch({ update_workspace_settings: true }, syncErrors);
      b.disabled = false;
    } }, 'Sync cluster env'), syncErrors);

  clear(root);
  root.append(h('p', {}, h('a', { href: '#/' }, '← All workspaces')), summary,
    h('div', { class: 'columns' }, container.el, h('div', {}, lifecycleFormEl, editable() ? syncBox : null)), opsBox, condBox);

  const unsubscribe = subscribe((change) => {
    if (change.deleted === name) {
      clear(summary);
      summary.append(h('h1', {}, name), h('p', { class: 'notice ok' }, 'This workspace has been deleted.'));
    }
    if (change.workspace?.name === name) {
      ws = change.workspace;
      renderSummary();
      container.update(ws);
    }
    // An operation of an earlier workspace of this name (deleted, then made again) is not one of ours.
    const op = change.operation;
    if (op?.workspace === name && (op.workspace_uid == null || op.workspace_uid === ws?.uid)) {
      const i = ops.findIndex((o) => o.id === op.id);
      if (i >= 0) ops[i] = op;
      else ops.unshift(op);
      renderOps();
    }
    if (change.reload) void loadOps().catch(() => undefined);
  });

  renderSummary();
  renderOps();
  void loadOps().catch(() => undefined);
  return unsubscribe;
}
