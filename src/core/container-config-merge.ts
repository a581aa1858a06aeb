// How a container_config patch changes a workspace's config: env by name, resources key by key, the rest replaced.
import type { ContainerConfig, EnvVar, ResourceRequirements } from './types.js';
import { CONTAINER_CONFIG_KEYS, type ContainerConfigPatch, type ResourcesPatch } from './container-config-check.js';
import { applyImageTag } from './image.js';

/** Keys merged specially; every other key of a patch replaces the current value. */
const MERGED = new Set(['env', 'resources']);

/**
 * Applies a patch without touching its inputs. `image_tag` retags the patched image, else the current one,
 * else `defaultImage` (the image the workspace would run without one of its own).
 */
export function mergeContainerConfig(
  current: ContainerConfig,
  patch: ContainerConfigPatch,
  defaultImage: string,
): ContainerConfig {
  const out = structuredClone(current) as Record<string, unknown>;
  for (const key of patch.unset_keys ?? []) delete out[key];
  for (const key of CONTAINER_CONFIG_KEYS) {
    const value = patch[key];
    if (value !== undefined && !MERGED.has(key)) out[key] = structuredClone(value);
  }
  const merged = out as ContainerConfig;

  if (patch.env !== undefined || patch.unset_env !== undefined) {
    const env = mergeEnv(merged.env ?? [], patch.env ?? [], patch.unset_env ?? []);
    if (env.length > 0) merged.env = env;
    else delete merged.env;
  }
  if (patch.resources !== undefined) {
    const resources = mergeResources(merged.resources ?? {}, patch.resources);
    if (resources) merged.resources = resources;
    else delete merged.resources;
  }
  if (patch.image_tag !== undefined) merged.image = applyImageTag(merged.image ?? defaultImage, patch.image_tag);
  return orderKeys(merged);
}

/** Patched values replace in place, new names are appended in order, unset names are removed. */
export function mergeEnv(current: readonly EnvVar[], patch: readonly EnvVar[], unset: readonly string[]): EnvVar[] {
  const byName = new Map<string, string>();
  for (const v of current) byName.set(v.name, v.value);
  for (const name of unset) byName.delete(name);
  for (const v of patch) byName.set(v.name, v.value);
  return [...byName].map(([name, value]) => ({ name, value }));
}

function mergeResources(current: ResourceRequirements, patch: ResourcesPatch): ResourceRequirements | undefined {
  const out: ResourceRequirements = {};
  for (const kind of ['limits', 'requests'] as const) {
    const entries = new Map(Object.entries(current[kind] ?? {}));
    for (const [name, q] of Object.entries(patch[kind] ?? {})) {
      if (q === null) entries.delete(name);
      else entries.set(name, q);
    }
    if (entries.size > 0) out[kind] = Object.fromEntries(entries);
  }
  return out.limits || out.requests ? out : undefined;
}

/** The same keys in the documented order, so equal configs render and compare alike. */
function orderKeys(config: ContainerConfig): ContainerConfig {
  const entries = CONTAINER_CONFIG_KEYS.filter((k) => config[k] !== undefined).map((k) => [k, config[k]]);
  return Object.fromEntries(entries) as ContainerConfig;
}
