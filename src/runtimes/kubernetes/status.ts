// How a StatefulSet, its pod and its Service read as a workspace instance (Mage's statuses, wsm's conditions).
import type { V1ContainerStatus, V1Pod, V1Service, V1StatefulSet } from '@kubernetes/client-node';
import type { ObservedInstance } from '../../core/runtime.js';
import { GENERATION_ANNOTATION, HASH_ANNOTATION, MAGE_PORT, PRE_START_CONTAINER } from './manifests.js';
import { kubeletRestarts } from './restarts.js';

type Condition = NonNullable<ObservedInstance['conditions']>[number];

/** Waiting reasons that keep a pod from becoming ready; reported as conditions with the kubelet's message. */
const WAITING_PROBLEMS = new Set([
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'CrashLoopBackOff',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
  'PostStartHookError',
]);

/** Where the workspace can be reached from inside (ClusterIP), a node (NodePort) or outside (LoadBalancer). */
export function instanceAddress(svc: V1Service | undefined, pod: V1Pod | undefined): string | undefined {
  if (!svc?.spec) return undefined;
  const port = svc.spec.ports?.[0];
  if (svc.spec.type === 'NodePort' && port?.nodePort && pod?.status?.hostIP) return `${pod.status.hostIP}:${port.nodePort}`;
  if (svc.spec.type === 'LoadBalancer') {
    const lb = svc.status?.loadBalancer?.ingress?.[0];
    const host = lb?.ip ?? lb?.hostname;
    if (host) return `${host}:${port?.port ?? MAGE_PORT}`;
  }
  if (svc.spec.clusterIP && svc.spec.clusterIP !== 'None') return `${svc.spec.clusterIP}:${port?.port ?? MAGE_PORT}`;
  return undefined;
}

/** A failed run of the pre-start init container: its code, and the condition local and Docker report. */
interface PreStartFailure {
  exitCode: number;
  condition: Condition;
}

/** GNU timeout exits 124; busybox's timeout dies of its own TERM (143), so there the run's length tells. */
function timedOut(code: number, startedAt: Date | undefined, finishedAt: Date | undefined, limitSeconds: number | undefined): boolean {
  if (code === 124) return true;
  if (code !== 143 || !startedAt || !finishedAt || !limitSeconds) return false;
  return finishedAt.getTime() - startedAt.getTime() >= (limitSeconds - 1) * 1000;
}

/**
 * The init container `pre-start` ended non-zero: now (state.terminated), or before the kubelet's
 * restart back-off (lastState.terminated while waiting). Its message is the script's last lines
 * (terminationMessagePolicy FallbackToLogsOnError).
 */
function preStartFailure(pod: V1Pod, limitSeconds: number | undefined): PreStartFailure | undefined {
  const status = pod.status?.initContainerStatuses?.find((s) => s.name === PRE_START_CONTAINER);
  if (!status) return undefined;
  const terminated = status.state?.terminated ?? (status.state?.waiting ? status.lastState?.terminated : undefined);
  if (!terminated || terminated.exitCode === 0) return undefined;
  const code = terminated.exitCode;
  const tail = terminated.message?.replace(/\s+$/, '') || terminated.reason || 'no output';
  const late = timedOut(code, toDate(terminated.startedAt), toDate(terminated.finishedAt), limitSeconds);
  const what = late ? `pre-start script exited with code ${code} (timed out after ${limitSeconds ?? '?'} s)` : `pre-start script exited with code ${code}`;
  return {
    exitCode: code,
    condition: { type: 'PreStartFailed', status: 'True', reason: late ? 'PreStartTimedOut' : 'PreStartFailed', message: `${what}: ${tail}` },
  };
}

function toDate(value: Date | string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** How often the kubelet restarted the container and how its last run ended, when it has restarted. */
function restarts(s: V1ContainerStatus): string {
  if (!s.restartCount) return '';
  const last = s.lastState?.terminated;
  return ` (restarted ${s.restartCount} time${s.restartCount === 1 ? '' : 's'}${last ? `, last exit code ${last.exitCode}${last.reason ? ` ${last.reason}` : ''}` : ''})`;
}

function waitingProblems(statuses: V1ContainerStatus[] | undefined): Condition[] {
  return (statuses ?? [])
    .filter((s) => s.state?.waiting?.reason && WAITING_PROBLEMS.has(s.state.waiting.reason))
    .map((s) => ({
      type: 'ContainersReady',
      status: 'False' as const,
      reason: s.state!.waiting!.reason!,
      message: `${s.name}: ${s.state!.waiting!.message ?? s.state!.waiting!.reason}${restarts(s)}`,
    }));
}

function podConditions(pod: V1Pod): Condition[] {
  const out: Condition[] = [];
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason) {
    out.push({ type: 'PodScheduled', status: 'False', reason: scheduled.reason, message: scheduled.message ?? scheduled.reason });
  }
  out.push(...waitingProblems(pod.status?.initContainerStatuses), ...waitingProblems(pod.status?.containerStatuses));
  return out;
}

function isReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** The instance as Kubernetes shows it; `pod` is the workspace's pod when one exists. */
export function describeInstance(
  name: string,
  sts: V1StatefulSet | undefined,
  pod: V1Pod | undefined,
  svc: V1Service | undefined,
  preStartTimeoutSeconds?: number,
  /** Why the StatefulSet controller cannot create the pod (its FailedCreate event), while no pod exists. */
  createFailure?: string,
): ObservedInstance {
  if (!sts) return { status: 'UNAVAILABLE', message: `statefulset ${name} not found`, conditions: [] };
  const generationText = sts.metadata?.annotations?.[GENERATION_ANNOTATION];
  const base: ObservedInstance = {
    status: 'UNKNOWN',
    ...(generationText !== undefined && /^\d+$/.test(generationText) ? { generation: Number(generationText) } : {}),
    instance_type: svc?.spec?.type,
    instance_name: pod?.metadata?.name,
    ip: instanceAddress(svc, pod),
    conditions: svc ? [] : [{ type: 'ServiceReady', status: 'False', reason: 'ServiceMissing', message: `service ${name}-service not found` }],
  };
  const replicas = sts.spec?.replicas ?? 1;
  if (replicas === 0) {
    return pod ? { ...base, status: 'STOPPING', message: `pod ${pod.metadata?.name} is terminating` } : { ...base, status: 'STOPPED', ip: undefined };
  }
  if (!pod && createFailure) {
    // Still PENDING, as an unschedulable pod is: the controller keeps trying, and a change of the namespace's quota or policy lets it through.
    const condition: Condition = { type: 'PodCreated', status: 'False', reason: 'FailedCreate', message: createFailure };
    return { ...base, status: 'PENDING', message: `the pod cannot be created: ${createFailure}`, conditions: [...base.conditions!, condition] };
  }
  if (!pod) return { ...base, status: 'PENDING', message: 'waiting for the pod to be created' };
  // While a pod exists its kubelet (and the StatefulSet controller) restart it, never wsm.
  const kubelet = kubeletRestarts(name, pod);
  const restarts: Partial<ObservedInstance> = {
    engine_restarts: {
      ...(kubelet?.engine_restarts ?? { instance_id: pod.metadata?.uid ?? pod.metadata?.name ?? name, count: 0 }),
      ...(kubelet?.next_retry_at ? { next_retry_at: kubelet.next_retry_at } : {}),
    },
    ...(kubelet?.termination ? { termination: kubelet.termination } : {}),
  };
  const preStart = preStartFailure(pod, preStartTimeoutSeconds);
  if (preStart) {
    const { condition } = preStart;
    return { ...base, engine_restarts: restarts.engine_restarts, status: 'FAILED', exit_code: preStart.exitCode, message: condition.message, conditions: [...base.conditions!, condition] };
  }
  const phase = pod.status?.phase;
  if (phase === 'Failed') {
    const message = pod.status?.message ?? pod.status?.reason ?? 'the pod failed';
    return { ...base, ...restarts, status: 'FAILED', message, conditions: [...base.conditions!, { type: 'PodFailed', status: 'True', reason: pod.status?.reason ?? 'Failed', message }] };
  }
  if (phase === 'Succeeded') return { ...base, ...restarts, status: 'SUCCEEDED', message: 'the workspace process exited' };
  const wantedHash = sts.spec?.template?.metadata?.annotations?.[HASH_ANNOTATION];
  const podHash = pod.metadata?.annotations?.[HASH_ANNOTATION];
  if (pod.metadata?.deletionTimestamp || (wantedHash !== undefined && podHash !== wantedHash)) {
    return { ...base, status: 'PENDING', message: 'the pod is being replaced with the new configuration', conditions: [...base.conditions!, { type: 'Rolled', status: 'False', reason: 'RollingUpdate', message: 'waiting for the pod with the new configuration' }] };
  }
  if (phase === 'Running' && isReady(pod)) return { ...base, ...restarts, status: 'RUNNING' };
  const problems = podConditions(pod);
  const first = problems[0];
  // Crash-looping, nothing of the workspace runs: FAILED while the kubelet backs off, as on Docker and local.
  if (kubelet?.backoff) {
    return { ...base, ...restarts, status: 'FAILED', exit_code: kubelet.termination?.exit_code, message: kubelet.backoff.message, conditions: [...base.conditions!, kubelet.backoff, ...problems] };
  }
  return {
    ...base,
    ...restarts,
    status: 'PENDING',
    message: first ? `${first.reason}: ${first.message}` : `pod ${pod.metadata?.name} is ${phase?.toLowerCase() ?? 'starting'}`,
    conditions: [...base.conditions!, ...problems],
  };
}
