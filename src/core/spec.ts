// From a validated request to the workspace spec the store keeps, and the equality that decides a new generation.
import type { EnvVar, WorkspaceSpec } from './types.js';
import { mergeContainerConfig } from './container-config-merge.js';
import { DEFAULT_LIFECYCLE, mergeLifecycleConfig } from './lifecycle.js';
import type { CreateRequest, PatchRequest } from './requests.js';

export interface SpecContext {
  /** The cluster env this workspace inherits now (selectInheritedEnv of the cluster settings). */
  inheritedEnv: EnvVar[];
  /** The image image_tag retags when the workspace has none of its own (the cluster settings', else the server's). */
  defaultImage: string;
}

export function buildSpec(req: CreateRequest, ctx: SpecContext): WorkspaceSpec {
  const spec: WorkspaceSpec = {
    container: mergeContainerConfig({}, req.container_config, ctx.defaultImage),
    lifecycle: mergeLifecycleConfig(DEFAULT_LIFECYCLE, req.lifecycle_config),
    storage: { ...req.storage },
    ingress: req.ingress_name ? { enabled: false, name: req.ingress_name } : { enabled: false },
    inherited_env: ctx.inheritedEnv.map((v) => ({ ...v })),
  };
  if (req.namespace !== undefined) spec.namespace = req.namespace;
  if (req.service_account_name !== undefined) spec.service_account_name = req.service_account_name;
  return spec;
}

/** update_workspace_settings re-copies the cluster env (Mage's meaning); otherwise the inherited env stays. */
export function applyPatch(spec: WorkspaceSpec, req: PatchRequest, ctx: SpecContext): WorkspaceSpec {
  return {
    ...spec,
    container: req.container_config ? mergeContainerConfig(spec.container, req.container_config, ctx.defaultImage) : spec.container,
    lifecycle: req.lifecycle_config ? mergeLifecycleConfig(spec.lifecycle, req.lifecycle_config) : spec.lifecycle,
    inherited_env: req.update_workspace_settings ? ctx.inheritedEnv.map((v) => ({ ...v })) : spec.inherited_env,
  };
}

/** Deep equality of specs as stored: a key holding undefined is the same as a missing key (JSON drops it). */
export function specEquals(a: WorkspaceSpec, b: WorkspaceSpec): boolean {
  return deepEqual(a, b);
}

/** Equality of JSON-like values; a key holding undefined is the same as a missing key. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ra), ...Object.keys(rb)]);
  for (const k of keys) if (!deepEqual(ra[k], rb[k])) return false;
  return true;
}
