// The shared Ingress: one `/<name>` path per workspace, added once and removed exactly, with
// resourceVersion-guarded replaces so concurrent editors (other workspaces, people) are never overwritten.
import type { V1HTTPIngressPath, V1Ingress } from '@kubernetes/client-node';
import { isConflict, type KubeApi } from './api.js';
import { MAGE_PORT, names } from './manifests.js';

export type IngressPathType = 'Prefix' | 'ImplementationSpecific';

export interface IngressSettings {
  ingressName: string;
  ingressClassName?: string;
  pathType: IngressPathType;
}

const CONFLICT_RETRIES = 5;

function pathFor(name: string, pathType: IngressPathType): V1HTTPIngressPath {
  return {
    path: `/${name}`,
    pathType,
    backend: { service: { name: names.service(name), port: { number: MAGE_PORT } } },
  };
}

function isOurs(p: V1HTTPIngressPath, name: string): boolean {
  return p.path === `/${name}` && p.backend?.service?.name === names.service(name);
}

/** Runs read-modify-replace until it sticks; `change` returns false when nothing needs writing. */
async function editIngress(api: KubeApi, namespace: string, ingressName: string, change: (ing: V1Ingress) => boolean): Promise<V1Ingress | undefined> {
  const target = { verb: 'update', resource: `ingress ${ingressName}`, namespace };
  for (let attempt = 1; ; attempt++) {
    const ing = await api.read({ ...target, verb: 'get' }, (o) => api.net.readNamespacedIngress({ name: ingressName, namespace }, o));
    if (!ing) return undefined;
    if (!change(ing)) return ing;
    try {
      return await api.call(target, (o) => api.net.replaceNamespacedIngress({ name: ingressName, namespace, body: ing }, o));
    } catch (err) {
      if (!isConflict(err) || attempt >= CONFLICT_RETRIES) throw err;
    }
  }
}

/** Ensures the Ingress exists and routes `/<name>` to the workspace exactly once. */
export async function addIngressPath(api: KubeApi, namespace: string, name: string, settings: IngressSettings): Promise<V1Ingress> {
  const { ingressName } = settings;
  for (let attempt = 1; ; attempt++) {
    const edited = await editIngress(api, namespace, ingressName, (ing) => {
      const spec = (ing.spec ??= {});
      const rules = (spec.rules ??= []);
      if (rules.some((r) => r.http?.paths?.some((p) => isOurs(p, name)))) return false;
      if (rules.length === 0) rules.push({});
      const http = (rules[0]!.http ??= { paths: [] });
      // At the front, as Mage does: a workspace path must win over a catch-all `/` an operator may have.
      http.paths.unshift(pathFor(name, settings.pathType));
      return true;
    });
    if (edited) return edited;
    const body: V1Ingress = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: ingressName, namespace, labels: { 'app.kubernetes.io/managed-by': 'wsm' } },
      spec: {
        ...(settings.ingressClassName ? { ingressClassName: settings.ingressClassName } : {}),
        rules: [{ http: { paths: [pathFor(name, settings.pathType)] } }],
      },
    };
    try {
      return await api.call({ verb: 'create', resource: `ingress ${ingressName}`, namespace }, (o) => api.net.createNamespacedIngress({ namespace, body }, o));
    } catch (err) {
      // Someone created it between our read and create: edit theirs instead.
      if (!isConflict(err) || attempt >= CONFLICT_RETRIES) throw err;
    }
  }
}

/**
 * Removes exactly the workspace's path; the Ingress itself stays (other workspaces may use it, and an
 * operator's annotations on it are kept). A rule left without paths loses its `http` block: the API
 * server requires at least one path in `http.paths`, while a rule with neither host nor http is valid.
 */
export async function removeIngressPath(api: KubeApi, namespace: string, name: string, ingressName: string): Promise<void> {
  await editIngress(api, namespace, ingressName, (ing) => {
    let changed = false;
    for (const rule of ing.spec?.rules ?? []) {
      if (!rule.http) continue;
      const kept = rule.http.paths.filter((p) => !isOurs(p, name));
      if (kept.length !== rule.http.paths.length) {
        if (kept.length > 0) rule.http.paths = kept;
        else delete rule.http;
        changed = true;
      }
    }
    return changed;
  });
}

/** Whether the Ingress routes `/<name>` to the workspace's Service. */
export function hasIngressPath(ing: V1Ingress | undefined, name: string): boolean {
  return ing?.spec?.rules?.some((r) => r.http?.paths?.some((p) => isOurs(p, name))) ?? false;
}

/** `http(s)://<host>/<name>`: the first rule's host (https when TLS covers it), else the load balancer's. */
export function ingressUrl(ing: V1Ingress | undefined, name: string): string | undefined {
  if (!ing?.spec?.rules || !hasIngressPath(ing, name)) return undefined;
  const ruleHost = ing.spec.rules[0]?.host;
  if (ruleHost) {
    const tls = ing.spec.tls?.some((t) => t.hosts?.includes(ruleHost)) ?? false;
    return `${tls ? 'https' : 'http'}://${ruleHost}/${name}`;
  }
  const lb = ing.status?.loadBalancer?.ingress?.[0];
  const host = lb?.hostname ?? lb?.ip;
  return host ? `http://${host}/${name}` : undefined;
}
