// The three patch formats the API server accepts for JSON bodies.
type Json = unknown;
type JsonObject = Record<string, unknown>;

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const clone = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T));

/** RFC 7386: objects merge recursively, null deletes, everything else (arrays too) replaces. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/**
 * Merge keys of the list fields the fake understands (core/v1 and apps/v1 openapi `x-kubernetes-patch-merge-key`).
 * `ports` is keyed by containerPort in containers and by port in Services; both are handled by looking at the items.
 */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  imagePullSecrets: 'name',
  conditions: 'type',
};

function mergeKeyFor(field: string, items: unknown[]): string | undefined {
  if (field === 'ports') {
    return items.some((i) => isObject(i) && 'containerPort' in i) ? 'containerPort' : 'port';
  }
  return MERGE_KEYS[field];
}

function strategicList(field: string, target: unknown, patch: unknown[]): unknown[] {
  if (patch.some((i) => isObject(i) && i.$patch === 'replace')) {
    return clone(patch.filter((i) => !(isObject(i) && i.$patch === 'replace')));
  }
  const key = mergeKeyFor(field, [...patch, ...(Array.isArray(target) ? target : [])]);
  if (!key || !Array.isArray(target)) return clone(patch.filter((i) => !(isObject(i) && i.$patch === 'delete')));
  const result = clone(target);
  for (const item of patch) {
    if (!isObject(item)) continue;
    const index = result.findIndex((t) => isObject(t) && t[key] === item[key]);
    if (item.$patch === 'delete') {
      if (index >= 0) result.splice(index, 1);
    } else if (index >= 0) {
      result[index] = strategicMergePatch(result[index], item);
    } else {
      result.push(strategicMergePatch({}, item));
    }
  }
  return result;
}

/** Strategic merge patch for the list fields wsm touches; `$patch: delete|replace` directives honoured. */
export function strategicMergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _directive, ...rest } = patch;
    return clone(rest);
  }
  if (patch.$patch === 'delete') return undefined;
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) continue; // $setElementOrder/... and other directives: order is not modelled
    if (value === null) delete result[key];
    else if (Array.isArray(value)) result[key] = strategicList(key, result[key], value);
    else if (isObject(value)) {
      const merged = strategicMergePatch(result[key], value);
      if (merged === undefined) delete result[key];
      else result[key] = merged;
    } else result[key] = value;
  }
  return result;
}

interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: unknown;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new Error(`invalid JSON pointer ${path}`);
  return path.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: Json, parts: string[]): { parent: JsonObject | unknown[]; last: string } {
  let node: unknown = doc;
  for (const part of parts.slice(0, -1)) {
    node = Array.isArray(node) ? node[Number(part)] : isObject(node) ? node[part] : undefined;
    if (node === undefined) throw new Error(`path ${parts.join('/')} does not exist`);
  }
  if (!isObject(node) && !Array.isArray(node)) throw new Error(`path ${parts.join('/')} does not exist`);
  return { parent: node, last: parts[parts.length - 1]! };
}

function getAt(doc: Json, parts: string[]): unknown {
  let node: unknown = doc;
  for (const part of parts) {
    node = Array.isArray(node) ? node[Number(part)] : isObject(node) ? node[part] : undefined;
    if (node === undefined) throw new Error(`path /${parts.join('/')} does not exist`);
  }
  return node;
}

function removeAt(doc: Json, parts: string[]): unknown {
  const { parent, last } = parentOf(doc, parts);
  if (Array.isArray(parent)) {
    const i = Number(last);
    if (!(i >= 0 && i < parent.length)) throw new Error(`index ${last} out of range`);
    return parent.splice(i, 1)[0];
  }
  if (!(last in parent)) throw new Error(`path /${parts.join('/')} does not exist`);
  const old = parent[last];
  delete parent[last];
  return old;
}

function addAt(doc: Json, parts: string[], value: unknown): Json {
  if (parts.length === 0) return clone(value);
  const { parent, last } = parentOf(doc, parts);
  if (Array.isArray(parent)) {
    const i = last === '-' ? parent.length : Number(last);
    if (!(i >= 0 && i <= parent.length)) throw new Error(`index ${last} out of range`);
    parent.splice(i, 0, clone(value));
  } else parent[last] = clone(value);
  return doc;
}

/** RFC 6902, applied atomically (a failing operation leaves the target untouched). */
export function jsonPatch(target: Json, ops: unknown): Json {
  if (!Array.isArray(ops)) throw new Error('a JSON patch must be an array of operations');
  let doc = clone(target);
  for (const raw of ops as JsonPatchOp[]) {
    const parts = pointer(raw.path);
    switch (raw.op) {
      case 'add':
        doc = addAt(doc, parts, raw.value);
        break;
      case 'remove':
        removeAt(doc, parts);
        break;
      case 'replace':
        if (parts.length === 0) doc = clone(raw.value);
        else {
          removeAt(doc, parts);
          doc = addAt(doc, parts, raw.value);
        }
        break;
      case 'move': {
        const value = removeAt(doc, pointer(raw.from ?? ''));
        doc = addAt(doc, parts, value);
        break;
      }
      case 'copy':
        doc = addAt(doc, parts, getAt(doc, pointer(raw.from ?? '')));
        break;
      case 'test':
        if (JSON.stringify(getAt(doc, parts)) !== JSON.stringify(raw.value)) {
          throw new Error(`test operation failed at ${raw.path}`);
        }
        break;
      default:
        throw new Error(`unknown JSON patch operation ${String((raw as { op?: unknown }).op)}`);
    }
  }
  return doc;
}
