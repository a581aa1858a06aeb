// The container_config form of one workspace: the YAML editor, the variables inherited from the
// cluster settings (which the YAML does not show but the workspace runs with), and Save. Kept apart
// from the rest of the detail view so that what a change will do can later be shown here, before Save.
import { clear, h, uid } from './dom.js';
import type { FieldError, Workspace } from './types.js';
import { createYamlEditor } from './yaml-editor.js';

/** Sends a patch; errors it does not hand to onErrors are shown in errorsBox. True when it went through. */
export type Patch = (body: Record<string, unknown>, errorsBox: HTMLElement, onErrors?: (errors: FieldError[]) => FieldError[]) => Promise<boolean>;

export interface ContainerForm {
  el: HTMLElement;
  /** The workspace as it is now: the inherited list follows it, and so does the YAML unless the user edited it. */
  update(ws: Workspace): void;
}

function inheritedList(ws: Workspace, headingId: string): HTMLElement {
  const vars = ws.inherited_env ?? [];
  return h('section', { class: 'inherited', 'aria-labelledby': headingId },
    h('h3', { id: headingId }, 'Inherited from the cluster settings'),
    vars.length === 0
      ? h('p', { class: 'muted small' }, 'None: this workspace runs with the env above only.')
      : [
          h('p', { class: 'muted small' }, 'The workspace also runs with these, copied from the cluster settings; they are not in the YAML above. A variable of the same name in env replaces one.'),
          h('ul', { class: 'env-list' }, vars.map((v) => h('li', { 'data-env': v.name },
            h('code', {}, v.name),
            h('span', { class: 'muted small' }, v.overridden ? 'replaced by env above' : 'from cluster settings')))),
        ]);
}

export function containerForm(initial: Workspace, editable: boolean, patch: Patch): ContainerForm {
  const editor = createYamlEditor('container_config (YAML)', initial.container_config, 'container_config', !editable);
  const errors = h('div');
  const inheritedBox = h('div', {}, inheritedList(initial, uid('inherited')));
  const save = h('button', { type: 'submit' }, 'Save container_config');
  let lastConfig = initial.container_config;

  const el = h('form', { class: 'card', 'aria-labelledby': 'cc-title', onsubmit: async (e: Event) => {
    e.preventDefault();
    save.disabled = true;
    editor.clearErrors();
    await patch({ container_config: editor.value() }, errors, (list) => editor.showErrors(list));
    save.disabled = false;
  } },
    h('h2', { id: 'cc-title' }, 'Container'),
    h('p', { class: 'muted small' }, 'Saving merges this YAML into the workspace (env by name). To remove a variable, add it under unset_env.'),
    editor.el, errors,
    editable ? h('div', { class: 'buttons' }, save) : null,
    inheritedBox);

  return {
    el,
    update(ws) {
      // Replace the editor's text only when the server's config changed and the user has no edits.
      if (ws.container_config !== lastConfig && editor.value() === lastConfig) editor.setValue(ws.container_config);
      lastConfig = ws.container_config;
      clear(inheritedBox);
      inheritedBox.append(inheritedList(ws, uid('inherited')));
    },
  };
}
