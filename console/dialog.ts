// The delete confirmation: a modal <dialog> (Escape cancels) that names the workspace and asks
// whether its volume, and so its files, should go too.
import { h } from './dom.js';

export function confirmDelete(name: string): Promise<{ deleteVolume: boolean } | null> {
  return new Promise((resolve) => {
    const keep = h('input', { type: 'radio', name: 'volume', value: 'keep', id: 'del-keep', checked: true });
    const drop = h('input', { type: 'radio', name: 'volume', value: 'delete', id: 'del-drop' });
    let answer: { deleteVolume: boolean } | null = null;
    const dialog = h(
      'dialog',
      { class: 'confirm', 'aria-labelledby': 'del-title' },
      h(
        'form',
        { method: 'dialog' },
        h('h2', { id: 'del-title' }, `Delete workspace ${name}?`),
        h('p', {}, 'The workspace is stopped and removed. This cannot be undone.'),
        h(
          'fieldset',
          {},
          h('legend', {}, 'Its volume (the files under /home/src)'),
          h('label', { for: 'del-keep' }, keep, ' Keep the volume'),
          h('label', { for: 'del-drop' }, drop, ' Delete the volume too'),
        ),
        h(
          'div',
          { class: 'buttons' },
          h('button', { type: 'submit', value: 'cancel', class: 'secondary', autofocus: true }, 'Cancel'),
          h('button', { type: 'submit', value: 'delete', class: 'danger', onclick: () => (answer = { deleteVolume: drop.checked }) }, `Delete ${name}`),
        ),
      ),
    );
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(answer);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}
