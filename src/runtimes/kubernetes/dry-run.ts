// A patch's dry run on Kubernetes: the writes apply() would make (hooks ConfigMap, StatefulSet, Service),
// each sent with dryRun=All, so the API server runs its admission and validation and keeps nothing. What
// it refuses comes back as an EngineRejection whose causes name the workspace API's fields.
import { ApiException, type V1Service, type V1StatefulSet } from '@kubernetes/client-node';
import { keyPath } from '../../core/checker.js';
import { EngineRejection, type RuntimeWorkspace } from '../../core/runtime.js';
import type { CallTarget, KubeApi } from './api.js';
import { buildHooksConfigMap, buildService, hooksData, names } from './manifests.js';
import { desiredStatefulSet, type OwnedDefaults } from './objects.js';
import { checkOurs } from './ownership.js';

const DRY_RUN = 'All';

/** Where the fields of the objects wsm writes come from in the workspace API, most specific first. */
const FIELD_SOURCES: [RegExp, string][] = [
  [/^spec\.template\.spec\.(?:init)?[cC]ontainers\[\d+\]\.image(?=$|\.)/, 'container_config.image'],
  [/^spec\.template\.spec\.(?:init)?[cC]ontainers\[\d+\]\.env(?=$|\[|\.)/, 'container_config.env'],
  [/^spec\.template\.spec\.containers\[\d+\]\.resources(?=$|\.)/, 'container_config.resources'],
  [/^spec\.template\.spec\.containers\[\d+\]\.command(?=$|\[)/, 'container_config.command'],
  [/^spec\.template\.spec\.containers\[\d+\]\.args(?=$|\[)/, 'container_config.args'],
  [/^spec\.template\.spec\.(?:init)?[cC]ontainers\[\d+\]\.workingDir$/, 'container_config.working_dir'],
  [/^spec\.template\.spec\.containers\[\d+\]\.ports(?=$|\[)/, 'container_config.port'],
  [/^spec\.template\.spec\.(?:init)?[cC]ontainers\[\d+\]\.imagePullPolicy$/, 'container_config.image_pull_policy'],
  // The postStart hook is wsm's wrapper around the command and hook: its inner fields mean nothing to a user.
  [/^spec\.template\.spec\.containers\[\d+\]\.lifecycle(\..*)?$/, 'lifecycle_config.post_start'],
  [/^spec\.template\.spec\.nodeSelector(?=$|\.|\[)/, 'container_config.nodeSelector'],
  [/^spec\.template\.spec\.tolerations(?=$|\[)/, 'container_config.tolerations'],
  [/^spec\.template\.spec\.affinity(?=$|\.)/, 'container_config.affinity'],
  [/^spec\.template\.spec\.imagePullSecrets(?=$|\[)/, 'container_config.image_pull_secrets'],
  [/^spec\.template\.spec\.serviceAccountName$/, 'service_account_name'],
];

/** The API server names a template's label or annotation `spec.template.annotations.<key>` or `...[<key>]`. */
const MAP_SOURCES: [RegExp, string][] = [
  [/^spec\.template\.(?:metadata\.)?labels/, 'container_config.labels'],
  [/^spec\.template\.(?:metadata\.)?annotations/, 'container_config.annotations'],
];

/**
 * The workspace API's field for a field of a StatefulSet, Service or ConfigMap, keeping what follows it
 * (`...containers[0].resources.requests` is `container_config.resources.requests`).
 */
export function apiFieldOf(kind: 'statefulset' | 'service' | 'configmap', field: string | undefined): string {
  if (kind === 'configmap') return 'lifecycle_config';
  if (kind === 'service') return field?.startsWith('spec.type') ? 'container_config.service_type' : 'container_config.port';
  for (const [pattern, apiField] of MAP_SOURCES) {
    const match = field === undefined ? null : pattern.exec(field);
    if (!match) continue;
    const key = field!.slice(match[0].length).replace(/^\.|^\[|\]$/g, '');
    return key ? keyPath(apiField, key) : apiField;
  }
  for (const [pattern, apiField] of FIELD_SOURCES) {
    const match = field === undefined ? null : pattern.exec(field);
    if (match) return apiField + field!.slice(match[0].length);
  }
  return 'container_config';
}

interface StatusCause {
  field?: string;
  message?: string;
}

/** A 422 (or 400) of the API server as an EngineRejection naming API fields; anything else is undefined. */
function rejectionOf(err: unknown, kind: 'statefulset' | 'service' | 'configmap', what: string): EngineRejection | undefined {
  if (!(err instanceof ApiException) || (err.code !== 422 && err.code !== 400)) return undefined;
  let body = err.body as unknown;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      body = { message: body };
    }
  }
  const status = (body ?? {}) as { message?: string; details?: { causes?: StatusCause[] } };
  const message = status.message ?? `HTTP ${err.code}`;
  const causes = status.details?.causes?.length ? status.details.causes : [{ message }];
  return new EngineRejection(
    `Kubernetes rejected the ${what}: ${message}`,
    causes.map((c) => ({ field: apiFieldOf(kind, c.field), message: `Kubernetes would reject this${c.field ? ` (${c.field})` : ''}: ${c.message ?? message}` })),
  );
}

async function dryWrite(api: KubeApi, target: CallTarget, kind: 'statefulset' | 'service' | 'configmap', fn: (o: ReturnType<KubeApi['options']>) => Promise<unknown>): Promise<string> {
  try {
    await fn(api.options(target.verb === 'patch' ? 'merge' : undefined));
  } catch (err) {
    throw rejectionOf(err, kind, `${target.verb} of ${target.resource}`) ?? api.translate(target, err);
  }
  return `${target.verb} ${target.resource}`;
}

/** Sends what apply() would write, with dryRun=All; returns the writes the API server accepted. */
export async function dryRunApply(api: KubeApi, ws: RuntimeWorkspace, namespace: string, defaults: OwnedDefaults): Promise<string[]> {
  const checked: string[] = [];
  const at = (verb: string, resource: string): CallTarget => ({ verb, resource, namespace });

  const data = hooksData(ws);
  if (data) {
    const name = names.hooks(ws.name);
    const current = await api.read(at('get', `configmap ${name}`), (o) => api.core.readNamespacedConfigMap({ name, namespace }, o));
    checkOurs(current, 'configmap', defaults.installation);
    const body = current ? { ...current, data } : buildHooksConfigMap(ws, namespace, data, defaults.installation);
    checked.push(
      await dryWrite(api, at(current ? 'replace' : 'create', `configmap ${name}`), 'configmap', (o) =>
        current ? api.core.replaceNamespacedConfigMap({ name, namespace, body, dryRun: DRY_RUN }, o) : api.core.createNamespacedConfigMap({ namespace, body, dryRun: DRY_RUN }, o),
      ),
    );
  }

  const stsName = names.statefulSet(ws.name);
  const desired = desiredStatefulSet(ws, namespace, defaults);
  const sts = await api.read(at('get', `statefulset ${stsName}`), (o) => api.apps.readNamespacedStatefulSet({ name: stsName, namespace }, o));
  checkOurs(sts, 'statefulset', defaults.installation);
  // As ensureStatefulSet replaces it: the current object with wsm's template, labels and annotations.
  const stsBody: V1StatefulSet = sts
    ? {
        ...sts,
        metadata: { ...sts.metadata, labels: { ...sts.metadata?.labels, ...desired.metadata!.labels }, annotations: { ...sts.metadata?.annotations, ...desired.metadata!.annotations } },
        spec: { ...sts.spec!, persistentVolumeClaimRetentionPolicy: desired.spec!.persistentVolumeClaimRetentionPolicy, template: desired.spec!.template },
      }
    : desired;
  checked.push(
    await dryWrite(api, at(sts ? 'replace' : 'create', `statefulset ${stsName}`), 'statefulset', (o) =>
      sts ? api.apps.replaceNamespacedStatefulSet({ name: stsName, namespace, body: stsBody, dryRun: DRY_RUN }, o) : api.apps.createNamespacedStatefulSet({ namespace, body: stsBody, dryRun: DRY_RUN }, o),
    ),
  );

  const svcName = names.service(ws.name);
  const want = buildService(ws, namespace, defaults);
  const svc = await api.read(at('get', `service ${svcName}`), (o) => api.core.readNamespacedService({ name: svcName, namespace }, o));
  checkOurs(svc, 'service', defaults.installation);
  const patch: V1Service = { spec: { type: want.spec!.type, ports: want.spec!.ports } };
  checked.push(
    await dryWrite(api, at(svc ? 'patch' : 'create', `service ${svcName}`), 'service', (o) =>
      svc ? api.core.patchNamespacedService({ name: svcName, namespace, body: patch, dryRun: DRY_RUN }, o) : api.core.createNamespacedService({ namespace, body: want, dryRun: DRY_RUN }, o),
    ),
  );
  return checked;
}
