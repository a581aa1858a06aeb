// Checks a container_config value (parsed YAML or a JSON object) key by key and builds the patch it asks for.
import { RESTART_POLICY_SETTINGS, type ContainerConfig, type EnvVar } from './types.js';
import { Checker, describe, indexPath, isPlainObject, keyPath, oneOf } from './checker.js';
import { ENV_NAME_HELP, isEnvName } from './env.js';
import { IMAGE_HELP, isImageReference, isImageTag, TAG_HELP } from './image.js';
import { isDnsSubdomain, isLabelValue, isQualifiedName } from './names.js';
import { isQuantity, QUANTITY_HELP } from './quantity.js';
import { byteLength, LIMITS, quantityOutOfBound, resourceBound } from './limits.js';
import { splitShellWords } from './shell-words.js';
import { PULL_POLICIES, SERVICE_TYPES } from './container-config-values.js';
import { checkAffinity, checkEntryCount, checkList, checkStringMap, checkToleration, checkVolumes, isHttpUrl, isOneOf } from './container-config-fields.js';

/** The keys of ContainerConfig, in the order they are rendered. */
export const CONTAINER_CONFIG_KEYS = [
  'image', 'env', 'resources', 'command', 'args', 'working_dir', 'port', 'host_port', 'restart_policy', 'start_timeout_seconds',
  'image_pull_policy', 'image_pull_secrets', 'volumes', 'public_url', 'service_type', 'nodeSelector',
  'tolerations', 'affinity', 'labels', 'annotations',
] as const satisfies readonly (keyof ContainerConfig)[];
export type ContainerConfigKey = (typeof CONTAINER_CONFIG_KEYS)[number];

/** Keys only a patch has: they say how to change the config rather than what it is. */
export const PATCH_ONLY_KEYS = ['image_tag', 'environment', 'unset_env'] as const;
export const ALLOWED_KEYS: readonly string[] = [...CONTAINER_CONFIG_KEYS, ...PATCH_ONLY_KEYS];

/** A quantity of null removes that one limit or request. */
export interface ResourcesPatch {
  limits?: Record<string, string | null>;
  requests?: Record<string, string | null>;
}

export type ContainerConfigPatch = Omit<ContainerConfig, 'resources'> & {
  resources?: ResourcesPatch;
  /** Replaces only the tag of the current (or patched) image. */
  image_tag?: string;
  /** Names of env vars to remove. */
  unset_env?: string[];
  /** Keys the YAML set to null: removed, so the runtime's default applies again. */
  unset_keys?: ContainerConfigKey[];
};


/** Keys whose null would be ambiguous or dangerous as "remove": they are merged, so null changes nothing. */
const NULL_IS_NOTHING = new Set(['env', 'environment', 'unset_env']);

export function checkContainerConfig(value: unknown, field: string, c: Checker): ContainerConfigPatch {
  const patch: ContainerConfigPatch = {};
  if (value === undefined || value === null) return patch;
  if (!isPlainObject(value)) {
    c.fail(field, `must be a YAML mapping of keys such as image, env and resources, not ${describe(value)}.`);
    return patch;
  }
  const unset: ContainerConfigKey[] = [];
  const env: EnvVar[] = [];
  const seenEnv = new Map<string, string>();
  const addEnv = (v: EnvVar, at: string): void => {
    const before = seenEnv.get(v.name);
    if (before !== undefined) {
      c.fail(at, `sets ${v.name} again (already set at ${before}); set each variable once.`);
      return;
    }
    seenEnv.set(v.name, at);
    env.push(v);
  };

  for (const key of Object.keys(value)) {
    const at = keyPath(field, key);
    const v = value[key];
    if (!ALLOWED_KEYS.includes(key)) {
      c.fail(at, `is not a container_config key; the allowed keys are ${ALLOWED_KEYS.join(', ')}.`);
      continue;
    }
    if (v === null || v === undefined) {
      if (key === 'image_tag') c.fail(at, `must be ${TAG_HELP}.`);
      else if (!NULL_IS_NOTHING.has(key)) unset.push(key as ContainerConfigKey);
      continue;
    }
    switch (key) {
      case 'image':
        if (typeof v === 'string' && isImageReference(v)) patch.image = v;
        else c.fail(at, `must be ${IMAGE_HELP}, not ${describe(v)}.`);
        break;
      case 'image_tag': {
        const tag = c.scalarText(v, at);
        if (tag !== undefined && isImageTag(tag)) patch.image_tag = tag;
        else c.fail(at, `must be ${TAG_HELP}, not ${describe(v)}.`);
        break;
      }
      case 'env':
        checkEnvList(v, at, c, addEnv);
        break;
      case 'environment':
        checkEnvironment(v, at, c, addEnv);
        break;
      case 'unset_env': {
        const names = checkList(v, at, c, 'a list of variable names such as [API_KEY, DEBUG]', (item, itemAt) => {
          if (typeof item === 'string' && isEnvName(item)) return item;
          c.fail(itemAt, `must be a variable name (${ENV_NAME_HELP}), not ${describe(item)}.`);
          return undefined;
        });
        if (names) patch.unset_env = [...new Set(names)];
        break;
      }
      case 'resources': {
        const resources = checkResources(v, at, c);
        if (resources) patch.resources = resources;
        break;
      }
      case 'command':
      case 'args': {
        const words = checkCommand(v, at, c, key === 'args');
        if (words) patch[key] = words;
        break;
      }
      case 'working_dir':
        if (typeof v === 'string' && v.startsWith('/') && !v.includes('\0') && byteLength(v) <= LIMITS.pathBytes) patch.working_dir = v;
        else c.fail(at, `must be an absolute path in the container such as /home/src (at most ${LIMITS.pathBytes} bytes), not ${describe(v)}.`);
        break;
      case 'port':
      case 'host_port': {
        const min = key === 'port' ? 1 : 0;
        if (Number.isInteger(v) && (v as number) >= min && (v as number) <= 65535) patch[key] = v as number;
        else c.fail(at, `must be a whole number from ${min} to 65535, not ${describe(v)}.`);
        break;
      }
      case 'restart_policy':
        if (isOneOf(v, RESTART_POLICY_SETTINGS)) patch.restart_policy = v;
        else c.fail(at, `must be one of ${oneOf(RESTART_POLICY_SETTINGS)}, not ${describe(v)}.`);
        break;
      case 'start_timeout_seconds':
        if (Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 86_400) patch.start_timeout_seconds = v as number;
        else c.fail(at, `must be a whole number of seconds from 1 to 86400, not ${describe(v)}.`);
        break;
      case 'image_pull_policy':
        if (isOneOf(v, PULL_POLICIES)) patch.image_pull_policy = v;
        else c.fail(at, `must be one of ${oneOf(PULL_POLICIES)}, not ${describe(v)}.`);
        break;
      case 'service_type':
        if (isOneOf(v, SERVICE_TYPES)) patch.service_type = v;
        else c.fail(at, `must be one of ${oneOf(SERVICE_TYPES)}, not ${describe(v)}.`);
        break;
      case 'image_pull_secrets': {
        if (!checkEntryCount(v, at, c)) break;
        const names = checkList(v, at, c, 'a list of secret names', (item, itemAt) => {
          const name = isPlainObject(item) && Object.keys(item).length === 1 ? item.name : item;
          if (typeof name === 'string' && isDnsSubdomain(name)) return name;
          c.fail(itemAt, `must be the name of a Secret (lower-case letters, digits, '-' and '.'), not ${describe(item)}.`);
          return undefined;
        });
        if (names) patch.image_pull_secrets = names;
        break;
      }
      case 'volumes': {
        const volumes = checkVolumes(v, at, c);
        if (volumes) patch.volumes = volumes;
        break;
      }
      case 'public_url':
        if (typeof v === 'string' && isHttpUrl(v) && byteLength(v) <= LIMITS.publicUrlBytes) patch.public_url = v;
        else c.fail(at, `must be an http:// or https:// URL of at most ${LIMITS.publicUrlBytes} bytes, not ${describe(v)}.`);
        break;
      case 'nodeSelector':
      case 'labels': {
        const map = checkStringMap(v, at, c, key === 'labels', isLabelValue, 'a label value (at most 63 letters, digits, -, _ and ., starting and ending with a letter or digit)');
        if (map) patch[key] = map;
        break;
      }
      case 'annotations': {
        const map = checkStringMap(v, at, c, false, () => true, 'a string');
        const bytes = map ? Object.entries(map).reduce((n, [k, text]) => n + byteLength(k) + byteLength(text), 0) : 0;
        if (bytes > LIMITS.annotationBytes) c.fail(at, `add up to ${bytes} bytes; Kubernetes takes at most ${LIMITS.annotationBytes} (256 KiB).`);
        else if (map) patch.annotations = map;
        break;
      }
      case 'tolerations': {
        if (!checkEntryCount(v, at, c)) break;
        const list = checkList(v, at, c, 'a list of Kubernetes tolerations', (item, itemAt) => checkToleration(item, itemAt, c));
        if (list) patch.tolerations = list;
        break;
      }
      case 'affinity': {
        const affinity = checkAffinity(v, at, c);
        if (affinity) patch.affinity = affinity;
        break;
      }
    }
  }
  for (const name of patch.unset_env ?? []) {
    const setAt = seenEnv.get(name);
    if (setAt !== undefined) c.fail(setAt, `sets ${name}, which unset_env removes; do one or the other.`);
  }
  if (env.length > 0) patch.env = env;
  if (unset.length > 0) patch.unset_keys = unset;
  return patch;
}

function checkEnvValue(v: unknown, at: string, c: Checker, name: string): string | undefined {
  const text = c.scalarText(v, at);
  if (text === undefined) {
    c.fail(at, `must be a string (use "" for an empty value, or unset_env: [${name}] to remove the variable), not ${describe(v)}.`);
  } else if (text.includes('\0')) {
    c.fail(at, 'must not contain NUL characters.');
    return undefined;
  } else if (byteLength(name) + byteLength(text) + 1 > LIMITS.envValueBytes) {
    c.fail(at, `is ${byteLength(text)} bytes; NAME=value may be at most ${LIMITS.envValueBytes} bytes (128 KiB), since Linux cannot start a process with a longer one.`);
    return undefined;
  }
  return text;
}

function checkEnvList(v: unknown, at: string, c: Checker, add: (e: EnvVar, at: string) => void): void {
  if (!Array.isArray(v)) {
    c.fail(at, `must be a list of {name, value} entries, not ${describe(v)}.`);
    return;
  }
  if (v.length > LIMITS.envVars) {
    c.fail(at, `has ${v.length} variables; at most ${LIMITS.envVars} are allowed.`);
    return;
  }
  v.forEach((item, i) => {
    const itemAt = indexPath(at, i);
    if (!isPlainObject(item)) {
      c.fail(itemAt, `must be a mapping with name and value, not ${describe(item)}.`);
      return;
    }
    let ok = true;
    for (const k of Object.keys(item)) {
      if (k !== 'name' && k !== 'value') {
        c.fail(keyPath(itemAt, k), 'is not allowed in an env entry; the allowed keys are name and value.');
        ok = false;
      }
    }
    const name = item.name;
    if (typeof name !== 'string' || !isEnvName(name)) {
      c.fail(`${itemAt}.name`, `must be a variable name (${ENV_NAME_HELP}), not ${describe(name)}.`);
      return;
    }
    const value = checkEnvValue(item.value, `${itemAt}.value`, c, name);
    if (ok && value !== undefined) add({ name, value }, itemAt);
  });
}

/** Mage's Docker `environment`: a map NAME: value, or (as docker-compose allows) a list of "NAME=value". */
function checkEnvironment(v: unknown, at: string, c: Checker, add: (e: EnvVar, at: string) => void): void {
  const count = Array.isArray(v) ? v.length : isPlainObject(v) ? Object.keys(v).length : 0;
  if (count > LIMITS.envVars) {
    c.fail(at, `has ${count} variables; at most ${LIMITS.envVars} are allowed.`);
    return;
  }
  if (Array.isArray(v)) {
    v.forEach((item, i) => {
      const itemAt = indexPath(at, i);
      const eq = typeof item === 'string' ? item.indexOf('=') : -1;
      const name = typeof item === 'string' && eq > 0 ? item.slice(0, eq) : '';
      if (!isEnvName(name)) {
        c.fail(itemAt, `must be NAME=value with a variable name (${ENV_NAME_HELP}), not ${describe(item)}.`);
        return;
      }
      const value = checkEnvValue((item as string).slice(eq + 1), itemAt, c, name);
      if (value !== undefined) add({ name, value }, itemAt);
    });
    return;
  }
  if (!isPlainObject(v)) {
    c.fail(at, `must be a mapping of NAME: value, not ${describe(v)}.`);
    return;
  }
  for (const [name, raw] of Object.entries(v)) {
    const itemAt = keyPath(at, name);
    if (!isEnvName(name)) {
      c.fail(itemAt, `is not a variable name; use ${ENV_NAME_HELP}.`);
      continue;
    }
    const value = checkEnvValue(raw, itemAt, c, name);
    if (value !== undefined) add({ name, value }, itemAt);
  }
}

function checkResources(v: unknown, at: string, c: Checker): ResourcesPatch | undefined {
  if (!isPlainObject(v)) {
    c.fail(at, `must be a mapping with limits and/or requests, not ${describe(v)}.`);
    return undefined;
  }
  const out: ResourcesPatch = {};
  for (const [kind, quantities] of Object.entries(v)) {
    const kindAt = keyPath(at, kind);
    if (kind !== 'limits' && kind !== 'requests') {
      c.fail(kindAt, 'is not allowed in resources; the allowed keys are limits and requests.');
      continue;
    }
    if (!isPlainObject(quantities)) {
      c.fail(kindAt, `must be a mapping of resource names to quantities (such as cpu: 500m, memory: 1Gi), not ${describe(quantities)}.`);
      continue;
    }
    const entries: [string, string | null][] = [];
    for (const [name, q] of Object.entries(quantities)) {
      const qAt = keyPath(kindAt, name);
      if (!isQualifiedName(name)) {
        c.fail(qAt, 'is not a resource name; use a name such as cpu, memory, ephemeral-storage or nvidia.com/gpu.');
        continue;
      }
      if (q === null) {
        entries.push([name, null]);
        continue;
      }
      const text = c.scalarText(q, qAt);
      if (text === undefined || !isQuantity(text)) {
        c.fail(qAt, `must be ${QUANTITY_HELP} (or null to remove it), not ${describe(q)}.`);
        continue;
      }
      const outOfBound = quantityOutOfBound(text, resourceBound(name));
      if (outOfBound) c.fail(qAt, outOfBound);
      else entries.push([name, text]);
    }
    out[kind] = Object.fromEntries(entries);
  }
  return out;
}

function checkCommand(v: unknown, at: string, c: Checker, mayBeEmpty: boolean): string[] | undefined {
  let words: string[] | undefined;
  if (typeof v === 'string') {
    const split = splitShellWords(v);
    if ('error' in split) {
      c.fail(at, `${split.error}; write the command as a list of strings or quote it as a shell would.`);
      return undefined;
    }
    words = split.words;
  } else {
    words = checkList(v, at, c, 'a list of strings or one command line', (item, itemAt) => {
      const text = c.scalarText(item, itemAt);
      if (text === undefined) c.fail(itemAt, `must be a string, not ${describe(item)}.`);
      return text;
    });
  }
  if (!words) return undefined;
  if (words.length === 0 && !mayBeEmpty) {
    c.fail(at, 'must name a program to run (or be null to use the image default).');
    return undefined;
  }
  if (words.some((w) => w.includes('\0'))) {
    c.fail(at, 'must not contain NUL characters.');
    return undefined;
  }
  return words;
}

