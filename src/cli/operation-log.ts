// `wsm ws logs` as text: one line per operation (when, what, outcome, who, how long), the error
// under it, and the output of hooks it ran, indented, as the lines they printed.
import { stringify } from 'yaml';
import type { ChangePlan } from '../core/change-plan.js';
import type { OperationView } from './follow.js';

interface StepRecord {
  step?: string;
  exit_code?: number;
  duration_ms?: number;
  timed_out?: boolean;
  output?: string;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

function took(op: OperationView): string {
  const from = Date.parse(op.started_at ?? op.created_at ?? '');
  const to = Date.parse(op.finished_at ?? '');
  return Number.isFinite(from) && Number.isFinite(to) ? ` in ${seconds(to - from)}` : '';
}

/** `2026-12-07T16:57:47.123Z` as `2026-12-07 16:57:47Z`: to the second is what a person compares. */
function when(iso: string | undefined): string {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-';
}

const indent = (text: string, by: string) => text.replace(/\s+$/, '').replace(/^/gm, by);

function describeStep(s: StepRecord): string {
  const what = s.step === 'hook' ? 'post-start hook' : 'post-start command';
  const how = s.timed_out ? `timed out after ${seconds(s.duration_ms ?? 0)}` : `exited ${s.exit_code ?? '?'} after ${seconds(s.duration_ms ?? 0)}`;
  const output = s.output?.trim() ? `\n${indent(s.output, '      | ')}` : ' (no output)';
  return `    ${what} ${how}${output}`;
}

function describeDetails(details: Record<string, unknown>): string[] {
  const lines: string[] = [];
  const { post_start: postStart, plan, ...rest } = details as { post_start?: { steps?: StepRecord[] }; plan?: ChangePlan };
  if (plan) {
    lines.push(`    plan: ${plan.summary}`);
    for (const c of plan.changes) lines.push(`      ${c.field}: ${c.effect} (${c.message})`);
  }
  for (const step of postStart?.steps ?? []) lines.push(describeStep(step));
  // Anything else a runtime recorded, as YAML: readable, and nothing is hidden.
  if (Object.keys(rest).length > 0) lines.push(indent(stringify(rest), '    '));
  return lines;
}

/** Oldest first, as a log reads. */
export function operationLog(ops: OperationView[]): string {
  const lines: string[] = [];
  for (const op of [...ops].reverse()) {
    const attempts = op.attempts > 1 ? `, ${op.attempts} attempts` : '';
    lines.push(`${when(op.created_at)}  ${op.action} ${op.state}${took(op)}${attempts}  by ${op.actor ?? '?'}`);
    if (op.error) lines.push(`    error: ${op.error}`);
    if (op.details) lines.push(...describeDetails(op.details));
  }
  return `${lines.join('\n')}\n`;
}
