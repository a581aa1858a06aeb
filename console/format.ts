// How values read on the page: statuses, times, the image of a container_config.

const STATUS_TONE: Record<string, string> = {
  RUNNING: 'ok',
  SUCCEEDED: 'ok',
  PENDING: 'busy',
  PROVISIONING: 'busy',
  STOPPING: 'busy',
  DELETING: 'busy',
  STOPPED: 'off',
  FAILED: 'bad',
  UNAVAILABLE: 'bad',
  UNKNOWN: 'off',
};

export const statusTone = (status: string) => STATUS_TONE[status] ?? 'off';

/**
 * The image line of the YAML the API renders (one top-level `image:` key); a full YAML parser would
 * triple the bundle for this one value.
 */
export function imageOf(containerConfig: string): string {
  const m = /^image:[ \t]*(.+?)[ \t]*$/m.exec(containerConfig);
  if (!m) return 'default';
  const raw = m[1]!;
  return raw.replace(/^(['"])(.*)\1$/, '$2');
}

export function relative(iso: string | null, now = Date.now()): string {
  if (!iso) return '—';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const s = Math.round((t - now) / 1000);
  const abs = Math.abs(s);
  const [n, unit] = abs < 60 ? [abs, 's'] : abs < 3600 ? [Math.round(abs / 60), 'min'] : abs < 86400 ? [Math.round(abs / 3600), 'h'] : [Math.round(abs / 86400), 'd'];
  if (abs < 5) return 'just now';
  return s < 0 ? `${n} ${unit} ago` : `in ${n} ${unit}`;
}

export function absolute(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export const ACTION_VERB: Record<string, [string, string]> = {
  stop: ['Stopping', 'stopped'],
  resume: ['Resuming', 'resumed'],
  patch: ['Updating', 'updated'],
  add_to_ingress: ['Adding to ingress', 'added to ingress'],
  delete: ['Deleting', 'deleted'],
  create: ['Creating', 'created'],
};
