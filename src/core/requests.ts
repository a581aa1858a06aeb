// The request bodies of the API (and the CLI): the `workspace` object of a create or of an action, checked
// field by field, so a bad request is refused before anything changes.
import { posix } from 'node:path';
import type { FieldError } from './errors.js';
import type { ClusterType, RetentionPolicy, StorageAccessMode, StorageSpec } from './types.js';
import { ACTIONS, CLUSTER_TYPES } from './types.js';
import { describe, isPlainObject, oneOf } from './checker.js';
import { parseContainerConfigInput } from './container-config.js';
import type { ContainerConfigPatch } from './container-config-check.js';
import { DEFAULT_STORAGE } from './defaults.js';
import { parseLifecycleConfig, type LifecycleConfigPatch } from './lifecycle.js';
import { isDnsLabel, isDnsSubdomain, validateWorkspaceName } from './names.js';
import { isPositiveQuantity } from './quantity.js';
import { quantityOutOfBound, STORAGE_SIZE_BOUND } from './limits.js';

export interface CreateRequest {
  name: string;
  cluster_type: ClusterType;
  container_config: ContainerConfigPatch;
  lifecycle_config: LifecycleConfigPatch;
  namespace?: string;
  service_account_name?: string;
  storage: StorageSpec;
  ingress_name?: string;
}

export interface PatchRequest {
  action: 'patch';
  container_config?: ContainerConfigPatch;
  lifecycle_config?: LifecycleConfigPatch;
  update_workspace_settings: boolean;
  /** Answer with the plan and the resulting spec, changing nothing. */
  dry_run: boolean;
}

/** `force` skips the pre-stop (lifecycle_config.pre_stop), which otherwise must succeed for the stop to go ahead. */
export type ActionRequest = { action: 'stop'; force?: boolean } | { action: 'resume' } | { action: 'add_to_ingress' } | PatchRequest;

const ACCESS_MODES: readonly StorageAccessMode[] = ['ReadWriteOnce', 'ReadWriteMany', 'ReadOnlyMany'];
const RETENTION: readonly RetentionPolicy[] = ['Retain', 'Delete'];
const CREATE_FIELDS = [
  'name', 'cluster_type', 'container_config', 'lifecycle_config', 'namespace', 'service_account_name',
  'storage_class_name', 'storage_access_mode', 'storage_request_size', 'pvc_retention_policy', 'ingress_name', 'mount_path',
];
const PATCH_FIELDS = ['container_config', 'lifecycle_config', 'update_workspace_settings', 'dry_run'];
/** Mage's clients send the workspace's own identity along; it is taken from the URL instead. */
const IGNORED_ACTION_FIELDS = ['name', 'cluster_type'];

export function parseCreateRequest(
  body: unknown,
  ctx: { defaultClusterType: ClusterType },
): { value: CreateRequest; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const value: CreateRequest = {
    name: '',
    cluster_type: ctx.defaultClusterType,
    container_config: {},
    lifecycle_config: {},
    storage: { ...DEFAULT_STORAGE },
  };
  if (!isPlainObject(body)) {
    errors.push({ field: 'workspace', message: `must be an object with the new workspace's fields, not ${describe(body)}.` });
    return { value, errors };
  }
  const fail = (field: string, message: string) => errors.push({ field, message });
  for (const key of Object.keys(body)) {
    if (!CREATE_FIELDS.includes(key)) fail(key, `is not a field of a new workspace; the fields are ${CREATE_FIELDS.join(', ')}.`);
  }
  const nameErrors = validateWorkspaceName(body.name);
  errors.push(...nameErrors);
  if (nameErrors.length === 0) value.name = body.name as string;

  // null is how JSON clients say "not given"; the default applies.
  const given = (key: string): unknown => (body[key] === null ? undefined : body[key]);

  const clusterType = given('cluster_type');
  if (clusterType !== undefined) {
    const lower = typeof clusterType === 'string' ? clusterType.toLowerCase() : undefined;
    const match = CLUSTER_TYPES.find((t) => t === lower);
    if (match) value.cluster_type = match;
    else fail('cluster_type', `must be one of ${oneOf(CLUSTER_TYPES)}, not ${describe(clusterType)}.`);
  }
  if (given('container_config') !== undefined) {
    const cc = parseContainerConfigInput(given('container_config'));
    errors.push(...cc.errors);
    value.container_config = cc.patch;
  }
  if (given('lifecycle_config') !== undefined) {
    const lc = parseLifecycleConfig(given('lifecycle_config'));
    errors.push(...lc.errors);
    value.lifecycle_config = lc.patch;
  }
  const name = (key: string, ok: (s: string) => boolean, help: string): string | undefined => {
    const v = given(key);
    if (v === undefined) return undefined;
    if (typeof v === 'string' && ok(v)) return v;
    fail(key, `must be ${help}, not ${describe(v)}.`);
    return undefined;
  };
  const label = "a DNS label (at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit)";
  const subdomain = "a Kubernetes name (lower-case letters, digits, '-' and '.', at most 253 characters)";
  const namespace = name('namespace', isDnsLabel, label);
  if (namespace !== undefined) value.namespace = namespace;
  const serviceAccount = name('service_account_name', isDnsSubdomain, subdomain);
  if (serviceAccount !== undefined) value.service_account_name = serviceAccount;
  const ingress = name('ingress_name', isDnsSubdomain, subdomain);
  if (ingress !== undefined) value.ingress_name = ingress;
  const storageClass = name('storage_class_name', isDnsSubdomain, subdomain);
  if (storageClass !== undefined) value.storage.class_name = storageClass;
  const accessMode = name('storage_access_mode', (s) => ACCESS_MODES.includes(s as StorageAccessMode), `one of ${oneOf(ACCESS_MODES)}`);
  if (accessMode !== undefined) value.storage.access_mode = accessMode as StorageAccessMode;
  const retention = name('pvc_retention_policy', (s) => RETENTION.includes(s as RetentionPolicy), `one of ${oneOf(RETENTION)}`);
  if (retention !== undefined) value.storage.retention_policy = retention as RetentionPolicy;

  const size = given('storage_request_size');
  if (size !== undefined) {
    const parsed = parseStorageSize(size);
    if (parsed) value.storage.request_size = parsed;
    else fail('storage_request_size', `must be a number of GB greater than 0 (such as 10) or a quantity such as 500Mi or 2Gi, ${STORAGE_SIZE_BOUND.help}, not ${describe(size)}.`);
  }
  const mount = given('mount_path');
  if (mount !== undefined) {
    const normalized = typeof mount === 'string' && !mount.includes('\0') ? posix.normalize(mount).replace(/\/+$/, '') : '';
    if (normalized.startsWith('/') && normalized !== '') value.storage.mount_path = normalized;
    else fail('mount_path', `must be an absolute directory in the workspace other than /, such as /home/src, not ${describe(mount)}.`);
  }
  return { value, errors };
}

/** Mage stores a number of GB as "<n>Gi"; a digits-only string means the same. Bounded: see limits.ts. */
function parseStorageSize(v: unknown): string | undefined {
  let quantity: string | undefined;
  // String(1e308) is "1e+308": only plain decimals make a quantity once "Gi" is appended.
  const text = typeof v === 'number' ? String(v) : v;
  if (typeof text !== 'string') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) quantity = `${text}Gi`;
  else if (typeof v === 'string') quantity = v;
  if (quantity === undefined || !isPositiveQuantity(quantity)) return undefined;
  return quantityOutOfBound(quantity, STORAGE_SIZE_BOUND) ? undefined : quantity;
}

export function parseActionRequest(body: unknown): { value: ActionRequest; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const fallback: ActionRequest = { action: 'stop' };
  if (!isPlainObject(body)) {
    errors.push({ field: 'workspace', message: `must be an object with an action, not ${describe(body)}.` });
    return { value: fallback, errors };
  }
  const action = body.action;
  if (typeof action !== 'string' || !(ACTIONS as readonly string[]).includes(action)) {
    const what = action === undefined || action === null ? 'is required' : `${describe(action)} is not an action`;
    errors.push({ field: 'action', message: `${what}; the actions are ${oneOf(ACTIONS)}.` });
    return { value: fallback, errors };
  }
  for (const key of Object.keys(body)) {
    if (key === 'action' || IGNORED_ACTION_FIELDS.includes(key)) continue;
    if (key === 'force') {
      if (action !== 'stop') errors.push({ field: key, message: `is only taken by the stop action, not by ${action}.` });
      else if (typeof body.force !== 'boolean') errors.push({ field: key, message: `must be true or false, not ${describe(body.force)}.` });
      continue;
    }
    if (!PATCH_FIELDS.includes(key)) {
      errors.push({ field: key, message: `is not a field of an action; the fields are action, force (stop), ${PATCH_FIELDS.join(', ')}.` });
    } else if (action !== 'patch') {
      errors.push({ field: key, message: `is only taken by the patch action, not by ${action}.` });
    }
  }
  if (action === 'stop' && body.force === true) return { value: { action, force: true }, errors };
  if (action !== 'patch') return { value: { action } as ActionRequest, errors };

  const value: PatchRequest = { action: 'patch', update_workspace_settings: false, dry_run: false };
  if (body.container_config !== undefined && body.container_config !== null) {
    const cc = parseContainerConfigInput(body.container_config);
    errors.push(...cc.errors);
    value.container_config = cc.patch;
  }
  if (body.lifecycle_config !== undefined && body.lifecycle_config !== null) {
    const lc = parseLifecycleConfig(body.lifecycle_config);
    errors.push(...lc.errors);
    value.lifecycle_config = lc.patch;
  }
  const update = body.update_workspace_settings;
  if (typeof update === 'boolean') value.update_workspace_settings = update;
  else if (update !== undefined && update !== null) {
    errors.push({ field: 'update_workspace_settings', message: `must be true or false, not ${describe(update)}.` });
  }
  const dryRun = body.dry_run;
  if (typeof dryRun === 'boolean') value.dry_run = dryRun;
  else if (dryRun !== undefined && dryRun !== null) errors.push({ field: 'dry_run', message: `must be true or false, not ${describe(dryRun)}.` });
  return { value, errors };
}
