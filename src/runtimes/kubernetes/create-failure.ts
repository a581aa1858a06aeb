// A pod the StatefulSet controller cannot create (a ResourceQuota or LimitRange of the namespace, Pod
// Security admission, a template the API server refuses only as a pod) leaves no pod to read: only the
// StatefulSet's FailedCreate events say why. They are read while the StatefulSet wants a pod and has none.
import type { V1StatefulSet } from '@kubernetes/client-node';
import type { KubeApi } from './api.js';
import { eventTime } from './pod-access.js';

export const FAILED_CREATE_EVENT = 'FailedCreate';

/**
 * When the StatefulSet's spec or metadata was last written (by wsm or by hand), from its managed
 * fields: a pod creation that failed before then was of an earlier state (the workspace stopped since,
 * or was changed), not of this one. 0 when the server keeps no managed fields.
 */
function lastWritten(sts: V1StatefulSet): number {
  const times = (sts.metadata?.managedFields ?? [])
    .filter((entry) => !entry.subresource)
    .map((entry) => (entry.time === undefined ? NaN : new Date(entry.time as Date | string).getTime()))
    .filter((ms) => Number.isFinite(ms));
  // Times are whole seconds: an event of the same second counts.
  return times.length === 0 ? 0 : Math.floor(Math.max(...times) / 1000) * 1000;
}

/** The message of the newest FailedCreate event of the StatefulSet since it was last written, if any. */
export async function podCreateFailure(api: KubeApi, namespace: string, sts: V1StatefulSet): Promise<string | undefined> {
  const uid = sts.metadata?.uid;
  if (!uid) return undefined;
  const events = await api.call({ verb: 'list', resource: 'events', namespace }, (o) =>
    api.core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.uid=${uid},reason=${FAILED_CREATE_EVENT}` }, o),
  );
  const since = lastWritten(sts);
  const newest = events.items
    .filter((e) => e.involvedObject?.uid === uid && e.reason === FAILED_CREATE_EVENT && eventTime(e) >= since)
    .sort((a, b) => eventTime(b) - eventTime(a))[0];
  return newest && (newest.message || newest.reason);
}
