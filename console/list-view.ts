// The list: every workspace the token may see, filtered by text and status, sorted by name or
// last activity, kept current by the live feed.
import { api } from './api.js';
import { clear, h, uid } from './dom.js';
import { absolute, imageOf, relative, statusTone } from './format.js';
import { canCreate, publish, state, subscribe } from './state.js';
import type { Workspace } from './types.js';
import { actionButtons, statusBadge } from './workspace-actions.js';

const STATUSES = ['RUNNING', 'PENDING', 'PROVISIONING', 'STOPPING', 'STOPPED', 'FAILED', 'UNAVAILABLE', 'DELETING', 'UNKNOWN'];

const prefs = { text: '', status: '', sort: 'name' };

export async function loadAll(): Promise<void> {
  const all: Workspace[] = [];
  for (let offset: number | null = 0; offset !== null; ) {
    const page: { workspaces: Workspace[]; metadata: { next_offset: number | null } } = await api('GET', `/api/workspaces?limit=1000&offset=${offset}`);
    all.push(...page.workspaces);
    offset = page.metadata.next_offset;
  }
  state.workspaces.clear();
  for (const ws of all) state.workspaces.set(ws.name, ws);
}

function visible(): Workspace[] {
  const text = prefs.text.trim().toLowerCase();
  const rows = [...state.workspaces.values()].filter((ws) => {
    const status = ws.deletion ? 'DELETING' : ws.instance.status;
    if (prefs.status && status !== prefs.status) return false;
    if (!text) return true;
    return [ws.name, ws.cluster_type, imageOf(ws.container_config), ws.url ?? '', status].some((v) => v.toLowerCase().includes(text));
  });
  const activity = (ws: Workspace) => (ws.activity.last_activity_at ? Date.parse(ws.activity.last_activity_at) : 0);
  rows.sort(prefs.sort === 'activity' ? (a, b) => activity(b) - activity(a) || a.name.localeCompare(b.name) : (a, b) => a.name.localeCompare(b.name));
  return rows;
}

function row(ws: Workspace): HTMLTableRowElement {
  const status = ws.deletion ? 'DELETING' : ws.instance.status;
  return h(
    'tr',
    { 'data-name': ws.name },
    h('th', { scope: 'row', 'data-label': 'Name' }, h('a', { href: `#/w/${encodeURIComponent(ws.name)}` }, ws.name)),
    h('td', { 'data-label': 'Status' }, statusBadge(ws, statusTone(status)), ws.dormant ? h('span', { class: 'muted small dormant', title: `dormant since ${absolute(ws.dormant_since ?? null)}` }, ' dormant') : null, ws.status_message && status !== 'RUNNING' ? h('div', { class: 'muted small status-message', title: ws.status_message }, ws.status_message) : null),
    h('td', { 'data-label': 'Cluster' }, ws.cluster_type),
    h('td', { 'data-label': 'Image', class: 'mono' }, imageOf(ws.container_config)),
    h('td', { 'data-label': 'URL' }, ws.url ? h('a', { href: ws.url, target: '_blank', rel: 'noopener' }, ws.url.replace(/^https?:\/\//, '')) : '—'),
    h('td', { 'data-label': 'Last activity', title: absolute(ws.activity.last_activity_at) }, relative(ws.activity.last_activity_at)),
    h('td', { 'data-label': 'Stops', title: absolute(ws.activity.stops_at) }, ws.activity.stops_at ? relative(ws.activity.stops_at) : '—'),
    h('td', { 'data-label': 'Actions', class: 'actions-cell' }, h('div', { class: 'actions' }, actionButtons(ws))),
  );
}

export function listView(root: HTMLElement): () => void {
  const tbody = h('tbody');
  const count = h('p', { class: 'muted count' });
  const empty = h('p', { class: 'empty', hidden: true });

  const render = () => {
    // Rows are rebuilt on every change; keep keyboard focus on the same button of the same row.
    const active = document.activeElement as HTMLElement | null;
    const key = active && tbody.contains(active) ? [active.closest('tr')?.dataset.name, active.dataset.action ?? active.tagName] : undefined;
    clear(tbody);
    const rows = visible();
    for (const ws of rows) tbody.append(row(ws));
    count.textContent = `${rows.length} of ${state.workspaces.size} workspace${state.workspaces.size === 1 ? '' : 's'}`;
    empty.hidden = rows.length > 0;
    empty.textContent = state.workspaces.size === 0 ? 'There are no workspaces yet.' : 'No workspace matches the filter.';
    if (key) {
      const tr = Array.from(tbody.rows).find((r) => r.dataset.name === key[0]);
      const target = tr && (Array.from(tr.querySelectorAll<HTMLElement>('button, a')).find((el) => (el.dataset.action ?? el.tagName) === key[1]) ?? tr.querySelector<HTMLElement>('button, a'));
      target?.focus();
    }
  };

  const textId = uid('filter');
  const statusId = uid('status');
  const sortId = uid('sort');
  const statusSelect = h('select', { id: statusId, onchange: (e: Event) => ((prefs.status = (e.target as HTMLSelectElement).value), render()) },
    h('option', { value: '' }, 'All'), STATUSES.map((s) => h('option', { value: s, selected: prefs.status === s }, s)));
  const sortSelect = h('select', { id: sortId, onchange: (e: Event) => ((prefs.sort = (e.target as HTMLSelectElement).value), render()) },
    h('option', { value: 'name', selected: prefs.sort === 'name' }, 'Name'), h('option', { value: 'activity', selected: prefs.sort === 'activity' }, 'Last activity'));

  clear(root);
  root.append(
    h('div', { class: 'toolbar' },
      h('h1', {}, 'Workspaces'),
      canCreate() ? h('a', { class: 'button', href: '#/new' }, 'Create workspace') : null),
    h('div', { class: 'filters', role: 'search' },
      h('div', { class: 'field' }, h('label', { for: textId }, 'Filter'), h('input', { id: textId, type: 'search', placeholder: 'name, image, cluster…', value: prefs.text, oninput: (e: Event) => ((prefs.text = (e.target as HTMLInputElement).value), render()) })),
      h('div', { class: 'field' }, h('label', { for: statusId }, 'Status'), statusSelect),
      h('div', { class: 'field' }, h('label', { for: sortId }, 'Sort by'), sortSelect)),
    count,
    h('div', { class: 'table-wrap' },
      h('table', { class: 'workspaces' },
        h('thead', {}, h('tr', {}, ['Name', 'Status', 'Cluster', 'Image', 'URL', 'Last activity', 'Stops', 'Actions'].map((c) => h('th', { scope: 'col' }, c)))),
        tbody)),
    empty,
  );

  const unsubscribe = subscribe((change) => {
    if (change.reload) void loadAll().then(render, () => undefined);
    else render();
  });
  // Relative times age; refresh them without waiting for an event.
  const tick = window.setInterval(render, 30_000);
  render();
  void loadAll().then(() => publish({}), (err: Error) => {
    empty.hidden = false;
    empty.textContent = `The list could not be loaded: ${err.message}`;
  });
  return () => {
    unsubscribe();
    clearInterval(tick);
  };
}
