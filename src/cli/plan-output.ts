// How `wsm workspaces patch --dry-run` shows a change plan: the summary, a row per changed field, and the
// container_config the workspace would have.
import type { ChangePlan } from '../core/change-plan.js';
import { table } from './table.js';

export function formatPlan(name: string, plan: ChangePlan, containerConfig: string): string {
  const lines = [`${name} (${plan.cluster_type}): ${plan.summary}`];
  if (plan.changes.length > 0) {
    lines.push('', table(['FIELD', 'EFFECT', 'WHAT HAPPENS'], plan.changes.map((c) => [c.field, c.effect, c.message])).trimEnd());
  }
  if (plan.engine_check) lines.push('', `engine check: ${plan.engine_check.status}: ${plan.engine_check.message}`);
  lines.push('', 'container_config after the patch:', containerConfig.trimEnd().replace(/^/gm, '  ') || '  (empty)');
  lines.push('', 'dry run: nothing was changed.');
  return `${lines.join('\n')}\n`;
}
