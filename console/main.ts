// The console's entry: sign-in, the header, the live feed, and hash routing between the list
// (#/), one workspace (#/w/<name>) and the create form (#/new).
import './styles.css';
import { ApiError, api } from './api.js';
import { createView } from './create-view.js';
import { detailView } from './detail-view.js';
import { clear, h } from './dom.js';
import { listView } from './list-view.js';
import { connectLive, type LiveState } from './live.js';
import { noticeRegion } from './notices.js';
import { state } from './state.js';
import type { Whoami } from './types.js';

const app = document.getElementById('app')!;
let unmount: (() => void) | undefined;
let disconnect: (() => void) | undefined;

function signInView(message?: string): void {
  disconnect?.();
  unmount?.();
  const token = h('input', { id: 'token', type: 'password', autocomplete: 'current-password', required: true, 'aria-describedby': 'signin-err' });
  const err = h('p', { id: 'signin-err', class: 'field-error', role: 'alert' }, message ?? '');
  const submit = h('button', { type: 'submit' }, 'Sign in');
  clear(app);
  app.append(h('main', { class: 'signin' }, h('form', { class: 'card', onsubmit: async (e: Event) => {
    e.preventDefault();
    submit.disabled = true;
    err.textContent = '';
    try {
      await api('POST', '/api/session', { token: token.value.trim() });
      await start();
    } catch (e2) {
      err.textContent = e2 instanceof Error ? e2.message : String(e2);
      submit.disabled = false;
      token.focus();
    }
  } },
    h('h1', {}, 'wsm workspaces'),
    h('div', { class: 'field' }, h('label', { for: 'token' }, 'API token'), token, h('small', { class: 'muted' }, 'Kept in an HttpOnly cookie for this site until you sign out.')),
    err,
    h('div', { class: 'buttons' }, submit))));
  token.focus();
}

function header(me: Whoami, live: HTMLElement): HTMLElement {
  const role = me.role ?? (me.grants.length ? `grants on ${me.grants.length} workspace${me.grants.length > 1 ? 's' : ''}` : 'no role');
  return h('header', { class: 'top' },
    h('a', { class: 'brand', href: '#/' }, 'wsm'),
    live,
    h('span', { class: 'who' }, `${me.actor} · ${role}`),
    h('button', { type: 'button', class: 'secondary', onclick: async () => {
      await api('DELETE', '/api/session').catch(() => undefined);
      signInView('Signed out.');
    } }, 'Sign out'));
}

function route(view: HTMLElement): void {
  unmount?.();
  const hash = location.hash || '#/';
  const detail = /^#\/w\/(.+)$/.exec(hash);
  if (detail) unmount = detailView(view, decodeURIComponent(detail[1]!));
  else if (hash === '#/new') unmount = createView(view);
  else unmount = listView(view);
  view.focus({ preventScroll: true });
}

async function start(): Promise<void> {
  let me: Whoami;
  try {
    const session = await api<{ has_cookie: boolean }>('GET', '/api/session');
    if (!session.has_cookie) return signInView();
    me = await api<Whoami>('GET', '/api/whoami');
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return signInView();
    clear(app);
    app.append(h('p', { class: 'form-errors' }, err instanceof Error ? err.message : String(err)));
    return;
  }
  state.me = me;
  state.clusterTypes = await api<{ cluster_types: string[] }>('GET', '/api/status').then((s) => s.cluster_types, () => []);
  const live = h('span', { class: 'live', 'data-state': 'connecting' }, 'connecting');
  const view = h('main', { tabindex: '-1', id: 'view' });
  clear(app);
  app.append(header(me, live), noticeRegion(), view);
  disconnect?.();
  disconnect = connectLive((s: LiveState) => {
    live.dataset.state = s;
    live.textContent = s === 'live' ? 'live' : s;
    live.title = s === 'live' ? 'Changes appear as they happen.' : 'Reconnecting to the server for live changes…';
  });
  route(view);
  window.onhashchange = () => route(view);
}

void start();
