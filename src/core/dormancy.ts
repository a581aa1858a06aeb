// Dormancy: a workspace left stopped, and untouched, for longer than the cluster's dormant_after_days
// is dormant; with delete_dormant_after_days it is deleted that many days later, after its owner was
// warned. Pure functions of the record, the settings and the time, so the API view, the list filter
// and the leader's clean-up agree.
import type { ClusterSettings, WorkspaceRecord } from './types.js';

export const DAY_MS = 86_400_000;
/** However late a warning comes (the control plane was down), the deletion it announces is at least this far off. */
export const WARNING_NOTICE_MS = DAY_MS;
export const MAX_DORMANCY_DAYS = 3_650;

export type DormancySettings = Pick<ClusterSettings, 'dormant_after_days' | 'delete_dormant_after_days' | 'delete_dormant_volume'>;

export interface DormancyView {
  dormant: boolean;
  /** When it became dormant (ISO 8601); null when it is not. */
  dormant_since: string | null;
  /** When it will be deleted, as announced by its warning or, before one, as the settings say; null when never. */
  deletes_at: string | null;
  /** When its owner was warned of the deletion; null before that. */
  warned_at: string | null;
}

const NOT_DORMANT: DormancyView = { dormant: false, dormant_since: null, deletes_at: null, warned_at: null };

/**
 * Since when the workspace has been left stopped (ms): the later of its last change and its last
 * activity, while it is asked to be stopped and is stopped. Undefined otherwise.
 */
export function leftStoppedSince(ws: WorkspaceRecord): number | undefined {
  if (ws.desired_state !== 'stopped' || ws.observed.status !== 'STOPPED' || ws.deletion) return undefined;
  const changed = Date.parse(ws.updated_at);
  const active = ws.activity.last_activity_at ? Date.parse(ws.activity.last_activity_at) : NaN;
  const since = Math.max(Number.isFinite(changed) ? changed : 0, Number.isFinite(active) ? active : 0);
  return since > 0 ? since : undefined;
}

/** The cut-off: a workspace left stopped before it is dormant at `now`. Undefined when dormancy is off. */
export function dormantCutoff(settings: DormancySettings, now: number): number | undefined {
  return settings.dormant_after_days === undefined ? undefined : now - settings.dormant_after_days * DAY_MS;
}

export function dormancyOf(ws: WorkspaceRecord, settings: DormancySettings, now: number): DormancyView {
  const since = leftStoppedSince(ws);
  if (since === undefined || settings.dormant_after_days === undefined) return NOT_DORMANT;
  const dormantAt = since + settings.dormant_after_days * DAY_MS;
  if (now < dormantAt) return NOT_DORMANT;
  return { dormant: true, dormant_since: new Date(dormantAt).toISOString(), deletes_at: deletesAt(ws, settings, dormantAt), warned_at: currentWarning(ws, dormantAt)?.warned_at ?? null };
}

/** The warning that belongs to this dormancy (one given before the workspace was last touched does not). */
export function currentWarning(ws: WorkspaceRecord, dormantSinceMs: number): { warned_at: string; deletes_at: string } | undefined {
  const w = ws.activity.dormancy_warning;
  return w && Date.parse(w.warned_at) >= dormantSinceMs ? w : undefined;
}

function deletesAt(ws: WorkspaceRecord, settings: DormancySettings, dormantAt: number): string | null {
  if (settings.delete_dormant_after_days === undefined) return null;
  const warning = currentWarning(ws, dormantAt);
  if (warning) return warning.deletes_at;
  return new Date(dormantAt + settings.delete_dormant_after_days * DAY_MS).toISOString();
}

/** The deletion a warning given at `now` announces: as the settings say, but never less than the notice away. */
export function announcedDeletion(view: DormancyView, now: number): string | undefined {
  if (!view.dormant || view.deletes_at === null) return undefined;
  return new Date(Math.max(Date.parse(view.deletes_at), now + WARNING_NOTICE_MS)).toISOString();
}

/** What the leader's dormancy pass does about a workspace at `now`: warn its owner, delete it, or nothing. */
export type DormancyStep = { kind: 'warn'; deletes_at: string } | { kind: 'delete'; delete_volume: boolean };

export function dormancyStep(ws: WorkspaceRecord, settings: DormancySettings, now: number): DormancyStep | undefined {
  const view = dormancyOf(ws, settings, now);
  if (!view.dormant || view.deletes_at === null || view.dormant_since === null) return undefined;
  const warning = currentWarning(ws, Date.parse(view.dormant_since));
  if (!warning) return { kind: 'warn', deletes_at: announcedDeletion(view, now)! };
  return now >= Date.parse(warning.deletes_at) ? { kind: 'delete', delete_volume: settings.delete_dormant_volume ?? false } : undefined;
}
