// "Preview changes" in the edit form: the patch sent as a dry run, and the plan it answers shown before
// anything is saved: per field, whether it applies live, restarts the process, or recreates the
// container / rolls the pod. Refusals come back to the form the way a failed save does.
import { ApiError, api, wsPath } from './api.js';
import { clear, h } from './dom.js';

type Effect = 'none' | 'live' | 'deferred' | 'restart' | 'recreate';

interface ChangePlan {
  effect: Effect;
  interrupts: boolean;
  summary: string;
  changes: { field: string; effect: Effect; message: string }[];
  engine_check?: { status: 'accepted' | 'unavailable'; message: string };
}

const TONE: Record<Effect, string> = { none: 'off', live: 'ok', deferred: 'ok', restart: 'bad', recreate: 'bad' };

function planView(plan: ChangePlan): HTMLElement {
  return h('div', { class: 'plan' },
    h('p', { class: plan.interrupts ? 'notice bad' : 'notice ok' }, plan.summary),
    plan.changes.length
      ? h('div', { class: 'table-wrap' }, h('table', { class: 'plan-changes' },
          h('thead', {}, h('tr', {}, ['Field', 'Effect', 'What happens'].map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', {}, plan.changes.map((c) => h('tr', { 'data-field': c.field },
            h('td', { 'data-label': 'Field' }, h('code', {}, c.field)),
            h('td', { 'data-label': 'Effect' }, h('span', { class: `status ${TONE[c.effect]}` }, c.effect)),
            h('td', { 'data-label': 'What happens' }, c.message))))))
      : null,
    plan.engine_check ? h('p', { class: 'muted small' }, `Checked with the cluster: ${plan.engine_check.message}`) : null,
    h('p', { class: 'muted small' }, 'Nothing has been changed yet.'));
}

/**
 * A button and the panel it fills. `body` gives the patch as the form would save it; `onError` shows a
 * refusal (the same 4xx the save would get) where the form shows its errors.
 */
export function changePreview(name: string, body: () => Record<string, unknown>, onError: (err: ApiError) => void): { button: HTMLButtonElement; panel: HTMLElement } {
  const panel = h('div', { class: 'plan-panel', role: 'status', 'aria-live': 'polite' });
  const button = h('button', { type: 'button', class: 'secondary', onclick: async () => {
    button.disabled = true;
    clear(panel);
    try {
      const answer = await api<{ plan: ChangePlan }>('PUT', wsPath(name), { workspace: { action: 'patch', dry_run: true, ...body() } });
      panel.append(h('h3', {}, 'Preview'), planView(answer.plan));
    } catch (err) {
      if (err instanceof ApiError) onError(err);
      else throw err;
    } finally {
      button.disabled = false;
    }
  } }, 'Preview changes');
  return { button, panel };
}
