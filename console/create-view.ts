// The create form: name (checked here with the server's own rule before sending), cluster type,
// container_config YAML and lifecycle; the server's validation errors land where they belong.
import { ApiError } from './api.js';
import { runAction } from './actions.js';
import { clear, h, uid } from './dom.js';
import { errorList } from './error-list.js';
import { lifecycleForm } from './lifecycle-form.js';
import { state } from './state.js';
import { createYamlEditor } from './yaml-editor.js';
import { validateWorkspaceName } from '../src/core/names.js';
import type { FieldError } from './types.js';

const EXAMPLE = `# image: mageai/mageai:latest
env:
  - name: ENV
    value: dev
`;

export function createView(root: HTMLElement): () => void {
  const nameId = uid('name');
  const typeId = uid('type');
  const name = h('input', { id: nameId, type: 'text', required: true, autocomplete: 'off', spellcheck: 'false', maxlength: 55, 'aria-describedby': `${nameId}-err` });
  const nameErr = h('p', { class: 'field-error', id: `${nameId}-err` });
  const type = h('select', { id: typeId }, h('option', { value: '' }, 'Server default'), state.clusterTypes.map((t) => h('option', { value: t }, t)));
  const editor = createYamlEditor('container_config (YAML)', EXAMPLE);
  const lifecycle = lifecycleForm(undefined);
  const errors = h('div');
  const submit = h('button', { type: 'submit' }, 'Create');

  const showNameError = (list: FieldError[]) => {
    nameErr.textContent = list.map((e) => e.message).join(' ');
    name.setAttribute('aria-invalid', String(list.length > 0));
  };

  const form = h('form', { class: 'card create', novalidate: true, onsubmit: async (e: Event) => {
    e.preventDefault();
    clear(errors);
    editor.clearErrors();
    const nameErrors = validateWorkspaceName(name.value.trim());
    showNameError(nameErrors);
    if (nameErrors.length) return name.focus();
    const body: Record<string, unknown> = { container_config: editor.value(), lifecycle_config: lifecycle.value() };
    if (type.value) body.cluster_type = type.value;
    submit.disabled = true;
    try {
      const answer = await runAction(name.value.trim(), 'create', body, { quiet: true });
      location.hash = `#/w/${encodeURIComponent(answer.workspace.name)}`;
    } catch (err) {
      if (err instanceof ApiError) {
        const rest = editor.showErrors(err.errors);
        showNameError(rest.filter((f) => f.field === 'name'));
        const other = rest.filter((f) => f.field !== 'name');
        if (other.length > 0 || err.errors.length === 0) errors.append(errorList(other, err.message));
      }
    } finally {
      submit.disabled = false;
    }
  } },
    h('h1', {}, 'Create a workspace'),
    h('div', { class: 'field' }, h('label', { for: nameId }, 'Name'), name, h('small', { class: 'muted' }, 'Lower-case letters, digits and -, starting with a letter; at most 55 characters.'), nameErr),
    h('div', { class: 'field' }, h('label', { for: typeId }, 'Cluster type'), type),
    editor.el,
    lifecycle.el,
    errors,
    h('div', { class: 'buttons' }, h('a', { href: '#/', class: 'button secondary' }, 'Cancel'), submit));

  clear(root);
  root.append(h('p', {}, h('a', { href: '#/' }, '← All workspaces')), form);
  name.focus();
  return () => undefined;
}
