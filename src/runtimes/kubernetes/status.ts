// How a StatefulSet, its pod and its Service read as a workspace instance (Mage's statuses, wsm's conditions).
import type { V1ContainerStatus, V1Pod, V1Service, V1StatefulSet } from '@kubernetes/client-node';
import type { ObservedInstance } from '../../core/runtime.js';
import { GENERATION_ANNOTATION, HASH_ANNOTATION, MAGE_PORT, PRE_START_CONTAINER } from './manifests.js';

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

function preStartFailure(pod: V1Pod): Condition | undefined {
  const status = pod.status?.initContainerStatuses?.find((s) => s.name === PRE_START_CONTAINER);
  if (!status) return undefined;
  const terminated = status.state?.terminated ?? (status.state?.waiting ? status.lastState?.terminated : undefined);
  if (!terminated || terminated.exitCode === 0) return undefined;
  const detail = terminated.message ?? terminated.reason ?? 'no message';
  return {
    type: 'PreStartSucceeded',
    status: 'False',
    reason: 'PreStartFailed',
    message: `pre-start script exited with code ${terminated.exitCode}: ${detail}`,
  };
}

function waitingProblems(statuses: V1ContainerStatus[] | undefined): Condition[] {
  return (statuses ?? [])
    .filter((s) => s.state?.waiting?.reason && WAITING_PROBLEMS.has(s.state.waiting.reason))
    .map((s) => ({
      type: 'ContainersReady',
      status: 'False' as const,
      reason: s.state!.waiting!.reason!,
      message: `${s.name}: ${s.state!.waiting!.message ?? s.state!.waiting!.reason}`,
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
export function describeInstance(name: string, sts: V1StatefulSet | undefined, pod: V1Pod | undefined, svc: V1Service | undefined): ObservedInstance {
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
  if (!pod) return { ...base, status: 'PENDING', message: 'waiting for the pod to be created' };
  const preStart = preStartFailure(pod);
  if (preStart) return { ...base, status: 'FAILED', message: preStart.message, conditions: [...base.conditions!, preStart] };
  const phase = pod.status?.phase;
  if (phase === 'Failed') {
    const message = pod.status?.message ?? pod.status?.reason ?? 'the pod failed';
    return { ...base, status: 'FAILED', message, conditions: [...base.conditions!, { type: 'PodFailed', status: 'True', reason: pod.status?.reason ?? 'Failed', message }] };
  }
  if (phase === 'Succeeded') return { ...base, status: 'SUCCEEDED', message: 'the workspace process exited' };
  const wantedHash = sts.spec?.template?.metadata?.annotations?.[HASH_ANNOTATION];
  const podHash = pod.metadata?.annotations?.[HASH_ANNOTATION];
  if (pod.metadata?.deletionTimestamp || (wantedHash !== undefined && podHash !== wantedHash)) {
    return { ...base, status: 'PENDING', message: 'the pod is being replaced with the new configuration', conditions: [...base.conditions!, { type: 'Rolled', status: 'False', reason: 'RollingUpdate', message: 'waiting for the pod with the new configuration' }] };
  }
  if (phase === 'Running' && isReady(pod)) return { ...base, status: 'RUNNING' };
  const problems = podConditions(pod);
  const first = problems[0];
  return {
    ...base,
    status: 'PENDING',
    message: first ? `${first.reason}: ${first.message}` : `pod ${pod.metadata?.name} is ${phase?.toLowerCase() ?? 'starting'}`,
    conditions: [...base.conditions!, ...problems],
  };
}
