// The outcome area: one line per action, announced to screen readers, updated as the action goes.
import { h } from './dom.js';

export type Tone = 'busy' | 'ok' | 'bad' | 'info';

export interface Notice {
  update(text: string, tone: Tone): void;
  remove(): void;
}

let region: HTMLElement | undefined;

export function noticeRegion(): HTMLElement {
  region ??= h('div', { class: 'notices', role: 'status', 'aria-live': 'polite' });
  return region;
}

export function notify(text: string, tone: Tone): Notice {
  const msg = h('span', { class: 'notice-text' }, text);
  const item = h('div', { class: `notice ${tone}` }, msg, h('button', { class: 'link', type: 'button', 'aria-label': 'Dismiss', onclick: () => item.remove() }, '×'));
  const list = noticeRegion();
  list.prepend(item);
  while (list.children.length > 5) list.lastElementChild?.remove();
  return {
    update(next, nextTone) {
      msg.textContent = next;
      item.className = `notice ${nextTone}`;
    },
    remove: () => item.remove(),
  };
}
