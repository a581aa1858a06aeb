// Converging each object a workspace owns (hooks ConfigMap, StatefulSet, Service) to what it should be.
// apply() runs all of them; the drift repair (repair.ts) runs them for objects found missing or changed.
// Each says what it changed, so a repair can report it. Each reads the object first and changes it only
// when it carries this installation's label (ownership.ts): anything else of that name is a NameConflict.
import type { V1ConfigMap, V1Service, V1StatefulSet } from '@kubernetes/client-node';
import type { RuntimeWorkspace } from '../../core/runtime.js';
import { isConflict, type KubeApi } from './api.js';
import {
  buildHooksConfigMap,
  buildService,
  buildStatefulSet,
  GENERATION_ANNOTATION,
  HASH_ANNOTATION,
  hooksData,
  MAGE_PORT,
  names,
  objectLabels,
  serviceType,
  type ManifestDefaults,
} from './manifests.js';
import { checkOurs } from './ownership.js';

/** The manifest defaults with the installation whose objects these are. */
export type OwnedDefaults = ManifestDefaults & { installation: string };

/** Bounded retries of read-modify-write on 409 Conflict. */
export const CONFLICT_RETRIES = 5;

/**
 * The replica count wsm last asked for, written before every scale: the repair compares the StatefulSet
 * against it (not against the workspace's desired state, which a post-start failure overrides by
 * stopping the instance while the workspace stays desired running).
 */
export const REPLICAS_ANNOTATION = 'wsm/replicas';

export type Change = 'created' | 'updated' | 'deleted' | undefined;

export interface StatefulSetChange {
  created: boolean;
  templateChanged: boolean;
  scaledFrom?: number;
}

export async function ensureHooks(api: KubeApi, ws: RuntimeWorkspace, namespace: string, installation: string): Promise<Change> {
  const name = names.hooks(ws.name);
  const target = { verb: 'update', resource: `configmap ${name}`, namespace };
  const data = hooksData(ws);
  if (!data) {
    // Read before deleting: most workspaces have no hooks, and a reconcile should not be a stream of failed writes.
    const stale = await api.read({ ...target, verb: 'get' }, (o) => api.core.readNamespacedConfigMap({ name, namespace }, o));
    checkOurs(stale, 'configmap', installation);
    if (!stale) return undefined;
    await api.deleteIfExists({ ...target, verb: 'delete' }, (o) => api.core.deleteNamespacedConfigMap({ name, namespace }, o));
    return 'deleted';
  }
  for (let attempt = 1; ; attempt++) {
    const current = await api.read({ ...target, verb: 'get' }, (o) => api.core.readNamespacedConfigMap({ name, namespace }, o));
    checkOurs(current, 'configmap', installation);
    try {
      if (!current) {
        const body = buildHooksConfigMap(ws, namespace, data, installation);
        await api.call({ ...target, verb: 'create' }, (o) => api.core.createNamespacedConfigMap({ namespace, body }, o));
        return 'created';
      }
      if (JSON.stringify(current.data ?? {}) !== JSON.stringify(data)) {
        const body: V1ConfigMap = { ...current, data };
        await api.call(target, (o) => api.core.replaceNamespacedConfigMap({ name, namespace, body }, o));
        return 'updated';
      }
      return undefined;
    } catch (err) {
      if (!isConflict(err) || attempt >= CONFLICT_RETRIES) throw err;
    }
  }
}

export function desiredStatefulSet(ws: RuntimeWorkspace, namespace: string, defaults: ManifestDefaults): V1StatefulSet {
  const desired = buildStatefulSet(ws, namespace, defaults);
  desired.metadata!.annotations![REPLICAS_ANNOTATION] = String(desired.spec!.replicas);
  return desired;
}

export async function ensureStatefulSet(
  api: KubeApi,
  ws: RuntimeWorkspace,
  namespace: string,
  defaults: OwnedDefaults,
  log?: (msg: string) => void,
): Promise<StatefulSetChange> {
  const name = names.statefulSet(ws.name);
  const target = { verb: 'update', resource: `statefulset ${name}`, namespace };
  const desired = desiredStatefulSet(ws, namespace, defaults);
  const wantHash = desired.metadata!.annotations![HASH_ANNOTATION]!;
  const wantReplicas = desired.spec!.replicas!;
  let current: V1StatefulSet | undefined;
  let templateChanged = false;
  for (let attempt = 1; ; attempt++) {
    current = await api.read({ ...target, verb: 'get' }, (o) => api.apps.readNamespacedStatefulSet({ name, namespace }, o));
    checkOurs(current, 'statefulset', defaults.installation);
    try {
      if (!current) {
        await api.call({ ...target, verb: 'create' }, (o) => api.apps.createNamespacedStatefulSet({ namespace, body: desired }, o));
        log?.('created statefulset');
        return { created: true, templateChanged: false };
      }
      const annotations = current.metadata?.annotations ?? {};
      templateChanged = annotations[HASH_ANNOTATION] !== wantHash;
      const retention = desired.spec!.persistentVolumeClaimRetentionPolicy!;
      const stale =
        templateChanged ||
        annotations[GENERATION_ANNOTATION] !== String(ws.generation) ||
        annotations[REPLICAS_ANNOTATION] !== String(wantReplicas) ||
        JSON.stringify(current.spec?.persistentVolumeClaimRetentionPolicy) !== JSON.stringify(retention);
      if (stale) {
        // A replace guarded by resourceVersion: the whole pod template is ours, so removed env vars,
        // volumes or pod-level keys really disappear (a strategic merge would keep them). The replica
        // count asked for is recorded here, before the scale below.
        const body: V1StatefulSet = {
          ...current,
          metadata: { ...current.metadata, labels: { ...current.metadata?.labels, ...objectLabels(ws.name, defaults.installation) }, annotations: { ...annotations, ...desired.metadata!.annotations } },
          spec: { ...current.spec!, persistentVolumeClaimRetentionPolicy: retention, ...(templateChanged ? { template: desired.spec!.template } : {}) },
        };
        current = await api.call(target, (o) => api.apps.replaceNamespacedStatefulSet({ name, namespace, body }, o));
        if (templateChanged) log?.('updated pod template; the pod rolls');
      }
      break;
    } catch (err) {
      if (!isConflict(err) || attempt >= CONFLICT_RETRIES) throw err;
    }
  }
  const have = current.spec?.replicas ?? 1;
  if (have === wantReplicas) return { created: false, templateChanged };
  await scaleStatefulSet(api, name, namespace, wantReplicas);
  return { created: false, templateChanged, scaledFrom: have };
}

/** Through the scale subresource, so only the replica count is written. */
export async function scaleStatefulSet(api: KubeApi, name: string, namespace: string, replicas: number): Promise<void> {
  await api.patch({ verb: 'scale', resource: `statefulset ${name}`, namespace }, 'merge', (o) =>
    api.apps.patchNamespacedStatefulSetScale({ name, namespace, body: { spec: { replicas } } }, o),
  );
}

/** Whether the Service's type, port, target port or selector differ from what wsm makes. */
export function serviceDrifted(current: V1Service, ws: RuntimeWorkspace, defaults: ManifestDefaults): boolean {
  const want = buildService(ws, current.metadata?.namespace ?? '', defaults).spec!;
  const have = current.spec?.ports?.[0];
  return (
    current.spec?.type !== serviceType(ws, defaults) ||
    String(have?.targetPort) !== String(want.ports![0]!.targetPort) ||
    have?.port !== MAGE_PORT ||
    JSON.stringify(current.spec?.selector ?? {}) !== JSON.stringify(want.selector)
  );
}

export async function ensureService(api: KubeApi, ws: RuntimeWorkspace, namespace: string, defaults: OwnedDefaults): Promise<Change> {
  const name = names.service(ws.name);
  const target = { verb: 'get', resource: `service ${name}`, namespace };
  const body = buildService(ws, namespace, defaults);
  const current = await api.read(target, (o) => api.core.readNamespacedService({ name, namespace }, o));
  checkOurs(current, 'service', defaults.installation);
  if (!current) {
    try {
      await api.call({ ...target, verb: 'create' }, (o) => api.core.createNamespacedService({ namespace, body }, o));
    } catch (err) {
      if (!isConflict(err)) throw err;
      // Created meanwhile: fine if by this installation.
      checkOurs(await api.read(target, (o) => api.core.readNamespacedService({ name, namespace }, o)), 'service', defaults.installation);
    }
    return 'created';
  }
  if (!serviceDrifted(current, ws, defaults)) return undefined;
  const want = body.spec!.ports![0]!;
  // In a merge patch a map is merged: keys someone added to the selector must be nulled to go.
  const selector = { ...Object.fromEntries(Object.keys(current.spec?.selector ?? {}).map((k) => [k, null])), ...body.spec!.selector };
  await api.patch({ ...target, verb: 'patch' }, 'merge', (o) =>
    api.core.patchNamespacedService({ name, namespace, body: { spec: { type: body.spec!.type, ports: [want], selector } } }, o),
  );
  return 'updated';
}
