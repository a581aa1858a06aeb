// The action buttons of one workspace, only those its role may use and its state allows.
import { runAction } from './actions.js';
import { confirmDelete } from './dialog.js';
import { h } from './dom.js';
import { canAct, canDelete } from './state.js';
import type { Workspace } from './types.js';

export function actionButtons(ws: Workspace, after: (action: string) => void = () => undefined): HTMLElement[] {
  const buttons: HTMLElement[] = [];
  if (ws.deletion) return buttons;
  const act = (action: string, label: string, cls = 'secondary') =>
    h('button', { type: 'button', class: cls, 'data-action': action, 'aria-label': `${label} ${ws.name}`, onclick: async (e: Event) => {
      const button = e.currentTarget as HTMLButtonElement;
      button.disabled = true;
      try {
        await runAction(ws.name, action);
        after(action);
      } catch {
        // runAction has shown the API's message.
      } finally {
        button.disabled = false;
      }
    } }, label);
  if (canAct(ws)) {
    if (ws.desired_state === 'running') {
      // A FAILED start is not tried again on its own (that would only fail again): a resume applies
      // the workspace anew, after the user fixed what failed.
      if (ws.instance.status === 'FAILED') buttons.push(act('resume', 'Retry'));
      buttons.push(act('stop', 'Stop'));
    } else buttons.push(act('resume', 'Resume'));
    if (ws.cluster_type === 'k8s' && !ws.ingress_enabled) buttons.push(act('add_to_ingress', 'Add to ingress'));
  }
  if (canDelete(ws)) {
    buttons.push(
      h('button', { type: 'button', class: 'danger', 'data-action': 'delete', 'aria-label': `Delete ${ws.name}`, onclick: async () => {
        const answer = await confirmDelete(ws.name);
        if (!answer) return;
        try {
          await runAction(ws.name, 'delete', {}, { query: `?delete_volume=${answer.deleteVolume}` });
          after('delete');
        } catch {
          // shown by runAction
        }
      } }, 'Delete'),
    );
  }
  return buttons;
}

export function statusBadge(ws: Workspace, tone: string): HTMLElement {
  const status = ws.deletion ? 'DELETING' : ws.instance.status;
  return h('span', { class: `status ${tone}`, 'data-status': status }, h('span', { class: 'dot', 'aria-hidden': 'true' }), status);
}
