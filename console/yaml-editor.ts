// A YAML textarea with line numbers; the server's validation errors are marked at their line
// (from error.line, or "line N" in the message) and listed below with a jump to the line.
import { h, clear, uid } from './dom.js';
import type { FieldError } from './types.js';

export interface YamlEditor {
  el: HTMLElement;
  textarea: HTMLTextAreaElement;
  value(): string;
  setValue(text: string): void;
  /** Marks the errors that belong to this editor (fields under prefix); returns the others. */
  showErrors(errors: FieldError[]): FieldError[];
  clearErrors(): void;
}

export function lineOf(e: FieldError): number | undefined {
  if (typeof e.line === 'number') return e.line;
  const m = /\bline (\d+)/.exec(e.message);
  return m ? Number(m[1]) : undefined;
}

export function createYamlEditor(label: string, initial: string, prefix = 'container_config', readOnly = false): YamlEditor {
  const id = uid('yaml');
  const gutter = h('div', { class: 'gutter', 'aria-hidden': 'true' });
  const textarea = h('textarea', { id, spellcheck: 'false', autocapitalize: 'off', autocomplete: 'off', wrap: 'off', rows: 14, readonly: readOnly, 'aria-describedby': `${id}-errors` });
  textarea.value = initial;
  const errorList = h('ul', { class: 'editor-errors', id: `${id}-errors` });
  let marks = new Map<number, string>();

  const renderGutter = () => {
    const lines = textarea.value.split('\n').length;
    clear(gutter);
    for (let n = 1; n <= lines; n++) {
      const msg = marks.get(n);
      gutter.append(h('div', { class: msg ? 'ln err' : 'ln', title: msg, 'data-line': n }, n));
    }
    gutter.scrollTop = textarea.scrollTop;
  };
  textarea.addEventListener('input', renderGutter);
  textarea.addEventListener('scroll', () => (gutter.scrollTop = textarea.scrollTop));

  const goTo = (line: number) => {
    const lines = textarea.value.split('\n');
    const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
    textarea.focus();
    textarea.setSelectionRange(start, start + (lines[line - 1]?.length ?? 0));
  };

  const editor: YamlEditor = {
    el: h('div', { class: 'yaml' }, h('label', { for: id }, label), h('div', { class: 'editor' }, gutter, textarea), errorList),
    textarea,
    value: () => textarea.value,
    setValue(text) {
      textarea.value = text;
      renderGutter();
    },
    showErrors(errors) {
      editor.clearErrors();
      const rest: FieldError[] = [];
      for (const e of errors) {
        if (e.field !== prefix && !e.field.startsWith(`${prefix}.`) && !e.field.startsWith(`${prefix}[`)) {
          rest.push(e);
          continue;
        }
        const line = lineOf(e);
        // The API's message starts with its line for readers of the bare API; here the line is shown once, as the link.
        const message = line === undefined ? e.message : e.message.replace(new RegExp(`^line ${line}: `), '');
        const text = `${e.field}: ${message}`;
        if (line !== undefined) marks.set(line, marks.has(line) ? `${marks.get(line)}\n${text}` : text);
        errorList.append(
          h('li', { class: 'err' }, line !== undefined ? h('button', { type: 'button', class: 'link', onclick: () => goTo(line) }, `Line ${line}`) : null, line !== undefined ? ': ' : '', text),
        );
      }
      textarea.setAttribute('aria-invalid', String(errorList.children.length > 0));
      renderGutter();
      return rest;
    },
    clearErrors() {
      marks = new Map();
      clear(errorList);
      textarea.removeAttribute('aria-invalid');
      renderGutter();
    },
  };
  renderGutter();
  return editor;
}
