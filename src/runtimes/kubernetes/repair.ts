// Level-triggered repair: each time the runtime looks at a workspace, the objects it owns that were
// deleted or edited outside wsm (the Service, the hooks ConfigMap, the workspace's Ingress path, the
// StatefulSet's replica count) are put back, and what was put back is returned in words.
//
// Only for what the last apply made: when the workspace's spec differs from what the StatefulSet was
// built from (a new generation, changed hook scripts), bringing it in is apply's job, which may roll the
// pod; a repair never does. A StatefulSet that is gone is not recreated here: the workspace then shows
// UNAVAILABLE until an action applies it again (its claim and data are kept by Kubernetes).
//
// Only what is this installation's: a missing object is made again with the installation's label; one
// present under the name but not labelled as ours (another installation's, or a person's) is never
// changed: the repair stops with a NameConflict.
import type { V1Ingress, V1Service, V1StatefulSet } from '@kubernetes/client-node';
import type { RuntimeWorkspace } from '../../core/runtime.js';
import type { KubeApi } from './api.js';
import { addIngressPath, hasIngressPath, type IngressSettings } from './ingress.js';
import { buildPodTemplate, GENERATION_ANNOTATION, HASH_ANNOTATION, hooksData, names } from './manifests.js';
import { ensureHooks, ensureService, REPLICAS_ANNOTATION, scaleStatefulSet, serviceDrifted, type OwnedDefaults } from './objects.js';
import { checkOurs } from './ownership.js';

export interface Seen {
  sts?: V1StatefulSet;
  svc?: V1Service;
  /** The shared Ingress, read when the workspace is to be on it. */
  ing?: V1Ingress;
}

export interface RepairOptions {
  defaults: OwnedDefaults;
  /** Set when the workspace is to be on the shared Ingress. */
  ingress?: IngressSettings;
}

/** Puts back what drifted; returns one sentence per repair (empty when nothing had drifted). */
export async function repairDrift(api: KubeApi, ws: RuntimeWorkspace, namespace: string, seen: Seen, options: RepairOptions): Promise<string[]> {
  const { sts } = seen;
  if (!sts || sts.metadata?.deletionTimestamp) return [];
  const { installation } = options.defaults;
  checkOurs(sts, 'statefulset', installation);
  checkOurs(seen.svc, 'service', installation);
  const annotations = sts.metadata?.annotations ?? {};
  if (annotations[GENERATION_ANNOTATION] !== String(ws.generation)) return [];
  if (annotations[HASH_ANNOTATION] !== buildPodTemplate(ws, options.defaults).hash) return [];
  const repaired: string[] = [];

  const service = !seen.svc || serviceDrifted(seen.svc, ws, options.defaults) ? await ensureService(api, ws, namespace, options.defaults) : undefined;
  if (service === 'created') repaired.push(`recreated service ${names.service(ws.name)} (it had been deleted)`);
  if (service === 'updated') repaired.push(`restored service ${names.service(ws.name)} (its type, port or selector had been changed)`);

  // Read only for workspaces that have hook scripts (a stale ConfigMap is apply's to remove).
  const hooks = hooksData(ws) ? await ensureHooks(api, ws, namespace, installation) : undefined;
  if (hooks === 'created') repaired.push(`recreated configmap ${names.hooks(ws.name)} (it had been deleted)`);
  if (hooks === 'updated') repaired.push(`restored configmap ${names.hooks(ws.name)} (its scripts had been changed)`);

  if (options.ingress && !hasIngressPath(seen.ing, ws.name)) {
    await addIngressPath(api, namespace, ws.name, options.ingress);
    const why = seen.ing ? 'it had been removed' : 'the Ingress had been deleted';
    repaired.push(`restored path /${ws.name} on ingress ${options.ingress.ingressName} (${why})`);
  }

  const asked = annotations[REPLICAS_ANNOTATION];
  const found = sts.spec?.replicas ?? 1;
  if (asked !== undefined && /^\d+$/.test(asked) && Number(asked) !== found) {
    await scaleStatefulSet(api, names.statefulSet(ws.name), namespace, Number(asked));
    repaired.push(`scaled statefulset ${names.statefulSet(ws.name)} back to ${asked} replicas (found ${found})`);
  }
  return repaired;
}
