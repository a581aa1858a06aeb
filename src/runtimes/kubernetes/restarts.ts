// What the kubelet tells of the workspace container's restarts (a StatefulSet's pods restart
// Always): how many, how the last run ended, and when it will try again while crash-looping. The
// controller counts them and shows them as Docker's and local's restarts are shown.
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import type { ObservedInstance } from '../../core/runtime.js';
import { describeTermination, terminationOf } from '../../core/termination.js';
import type { Termination } from '../../core/types.js';
import { names } from './manifests.js';

type Condition = NonNullable<ObservedInstance['conditions']>[number];

function iso(value: Date | string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** "2m40s", "10s", "1h0m0s" (Go's duration as the kubelet writes it) in ms; undefined when it is not one. */
export function goDurationMs(text: string): number | undefined {
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(text);
  if (!match || text === '') return undefined;
  const [, h, m, s] = match;
  return ((Number(h ?? 0) * 60 + Number(m ?? 0)) * 60 + Number(s ?? 0)) * 1000;
}

function terminationOfStatus(s: V1ContainerStatus): Termination | undefined {
  const t = s.state?.terminated ?? s.lastState?.terminated;
  if (!t) return undefined;
  return terminationOf({
    exit_code: t.exitCode,
    oom_killed: t.reason === 'OOMKilled',
    finished_at: iso(t.finishedAt) ?? new Date().toISOString(),
    log_tail: t.message?.replace(/\s+$/, '') || undefined,
  });
}

export interface KubeletRestarts {
  engine_restarts: NonNullable<ObservedInstance['engine_restarts']>;
  termination?: Termination;
  /** Set while the kubelet backs off: the Ready condition that says so, with the next try. */
  backoff?: Condition;
  next_retry_at?: string;
}

export function kubeletRestarts(name: string, pod: V1Pod): KubeletRestarts | undefined {
  const s = pod.status?.containerStatuses?.find((c) => c.name === names.container(name));
  if (!s) return undefined;
  const termination = terminationOfStatus(s);
  const out: KubeletRestarts = {
    engine_restarts: { instance_id: pod.metadata?.uid ?? pod.metadata?.name ?? name, count: s.restartCount ?? 0 },
    ...(termination ? { termination } : {}),
  };
  const waiting = s.state?.waiting;
  if (waiting?.reason === 'CrashLoopBackOff') {
    const delay = goDurationMs(/back-off (\S+) restarting/.exec(waiting.message ?? '')?.[1] ?? '');
    const endedMs = termination ? Date.parse(termination.finished_at) : NaN;
    const next = delay !== undefined && Number.isFinite(endedMs) ? new Date(endedMs + delay).toISOString() : undefined;
    const what = termination ? describeTermination(termination) : 'the container ended';
    const when = delay !== undefined ? `back-off ${Math.round(delay / 1000)} s before restart ${(s.restartCount ?? 0) + 1}${next ? ` (at ${next})` : ''}` : 'backing off before the next restart';
    out.backoff = { type: 'Ready', status: 'False', reason: 'CrashLoopBackOff', message: `${what}; ${when}` };
    if (next) out.next_retry_at = next;
  }
  return out;
}
