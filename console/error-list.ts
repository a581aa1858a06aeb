// The server's refusal of a form, shown once: the API's message is its first field error's own text,
// so beside the list of field errors it would say the same thing twice.
import { h } from './dom.js';
import type { FieldError } from './types.js';

export function errorList(errors: FieldError[], message?: string): HTMLElement {
  const lines = errors.map((e) => `${e.field}: ${e.message}`);
  const lead = message && !lines.includes(message) ? h('p', {}, message) : null;
  return h('div', { class: 'form-errors', role: 'alert' }, lead, lines.length ? h('ul', {}, lines.map((line) => h('li', {}, line))) : null);
}
