// lifecycle_config as a form: idle termination, the hook paths and the schedule. Empty paths are sent
// as null, which removes them; a schedule with neither time is removed too.
import { h, uid } from './dom.js';
import type { LifecycleConfig } from './types.js';

export interface LifecycleForm {
  el: HTMLElement;
  value(): Record<string, unknown>;
}

function field(label: string, input: HTMLInputElement, hint?: string): HTMLElement {
  input.id ||= uid('lc');
  return h('div', { class: input.type === 'checkbox' ? 'field check' : 'field' }, input.type === 'checkbox' ? [input, h('label', { for: input.id }, label)] : [h('label', { for: input.id }, label), input], hint ? h('small', { class: 'muted' }, hint) : null);
}

export function lifecycleForm(lc: LifecycleConfig | undefined, readOnly = false): LifecycleForm {
  const policy = lc?.termination_policy ?? { enable_auto_termination: false, max_idle_seconds: 0 };
  const auto = h('input', { type: 'checkbox', checked: policy.enable_auto_termination, disabled: readOnly });
  const idle = h('input', { type: 'number', min: 0, step: 1, value: String(policy.max_idle_seconds), disabled: readOnly, inputmode: 'numeric' });
  const pre = h('input', { type: 'text', value: lc?.pre_start_script_path ?? '', disabled: readOnly, placeholder: 'pre-start.sh' });
  const hook = h('input', { type: 'text', value: lc?.post_start?.hook_path ?? '', disabled: readOnly, placeholder: 'post-start.sh' });
  const preStop = h('input', { type: 'text', value: lc?.pre_stop?.hook_path ?? '', disabled: readOnly, placeholder: 'pre-stop.sh' });
  const autostart = h('input', { type: 'text', value: lc?.schedule?.autostart ?? '', disabled: readOnly, placeholder: '0 8 * * MON-FRI', class: 'mono' });
  const autostop = h('input', { type: 'text', value: lc?.schedule?.autostop ?? '', disabled: readOnly, placeholder: '0 19 * * MON-FRI', class: 'mono' });
  const timezone = h('input', { type: 'text', value: lc?.schedule?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone, disabled: readOnly, placeholder: 'Europe/Berlin' });
  return {
    el: h('fieldset', { class: 'lifecycle' },
      h('legend', {}, 'Lifecycle'),
      field('Stop automatically when idle', auto),
      field('Idle seconds before stopping', idle),
      field('Pre-start script', pre, 'A path inside the server\'s hooks directory.'),
      field('Post-start hook', hook, 'A path inside the server\'s hooks directory.'),
      field('Pre-stop hook', preStop, 'Runs before every stop to save work; a failure postpones an automatic stop.'),
      field('Start on schedule (cron)', autostart, 'Minute hour day month weekday, e.g. 0 8 * * MON-FRI.'),
      field('Stop on schedule (cron)', autostop),
      field('Schedule time zone', timezone, 'An IANA time zone such as Europe/Berlin.')),
    value() {
      const out: Record<string, unknown> = {
        termination_policy: { enable_auto_termination: auto.checked, max_idle_seconds: idle.value === '' ? 0 : Number(idle.value) },
      };
      const prePath = pre.value.trim();
      if (prePath || lc?.pre_start_script_path) out.pre_start_script_path = prePath || null;
      const hookPath = hook.value.trim();
      if (hookPath) out.post_start = { hook_path: hookPath };
      else if (lc?.post_start?.hook_path) out.post_start = { hook_path: null };
      const preStopPath = preStop.value.trim();
      if (preStopPath) out.pre_stop = { hook_path: preStopPath };
      else if (lc?.pre_stop?.hook_path) out.pre_stop = { hook_path: null };
      const start = autostart.value.trim();
      const stop = autostop.value.trim();
      if (start || stop) out.schedule = { ...(start ? { autostart: start } : {}), ...(stop ? { autostop: stop } : {}), timezone: timezone.value.trim() || 'UTC' };
      else if (lc?.schedule) out.schedule = null;
      return out;
    },
  };
}
