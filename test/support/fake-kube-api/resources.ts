// The resources the fake serves, and the defaulting/immutability rules of the real API server that matter to wsm.
import { STATEFULSET_MUTABLE } from './rules.js';
import { canonical, type KubeObject } from './store.js';

export interface ResourceInfo {
  plural: string;
  kind: string;
  apiVersion: string;
  /** The URL prefix before `/namespaces/...` or `/<plural>`. */
  prefix: string;
  readOnly?: boolean;
}

export const RESOURCES: ResourceInfo[] = [
  { plural: 'statefulsets', kind: 'StatefulSet', apiVersion: 'apps/v1', prefix: '/apis/apps/v1' },
  { plural: 'services', kind: 'Service', apiVersion: 'v1', prefix: '/api/v1' },
  { plural: 'configmaps', kind: 'ConfigMap', apiVersion: 'v1', prefix: '/api/v1' },
  { plural: 'persistentvolumeclaims', kind: 'PersistentVolumeClaim', apiVersion: 'v1', prefix: '/api/v1' },
  { plural: 'pods', kind: 'Pod', apiVersion: 'v1', prefix: '/api/v1' },
  { plural: 'events', kind: 'Event', apiVersion: 'v1', prefix: '/api/v1' },
  { plural: 'ingresses', kind: 'Ingress', apiVersion: 'networking.k8s.io/v1', prefix: '/apis/networking.k8s.io/v1' },
];

type Obj = Record<string, any>;

export class InvalidError extends Error {}

let nextClusterIp = 10;
let nextNodePort = 30080;

/** Fills in what the API server assigns on create. */
export function applyCreateDefaults(plural: string, obj: KubeObject): void {
  if (plural === 'services') {
    const spec = (obj.spec ??= {}) as Obj;
    spec.type ??= 'ClusterIP';
    spec.clusterIP ??= `10.96.0.${nextClusterIp++}`;
    spec.clusterIPs ??= [spec.clusterIP];
    for (const port of (spec.ports ?? []) as Obj[]) {
      port.protocol ??= 'TCP';
      port.targetPort ??= port.port;
    }
  }
  if (plural === 'statefulsets') {
    const spec = (obj.spec ??= {}) as Obj;
    spec.replicas ??= 1;
    spec.podManagementPolicy ??= 'OrderedReady';
    spec.updateStrategy ??= { type: 'RollingUpdate', rollingUpdate: { partition: 0 } };
    spec.persistentVolumeClaimRetentionPolicy ??= { whenDeleted: 'Retain', whenScaled: 'Retain' };
  }
}

/** Defaults that apply on every write (node ports follow the service type). */
export function applyWriteDefaults(plural: string, obj: KubeObject): void {
  if (plural !== 'services') return;
  const spec = obj.spec as Obj;
  for (const port of (spec.ports ?? []) as Obj[]) {
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') port.nodePort ??= nextNodePort++;
    else delete port.nodePort;
  }
}


/** Throws InvalidError for updates the real server forbids. */
export function checkUpdate(plural: string, old: KubeObject, next: KubeObject): void {
  if (plural === 'statefulsets') {
    const strip = (spec: Obj) => Object.fromEntries(Object.entries(spec ?? {}).filter(([k]) => !STATEFULSET_MUTABLE.includes(k)));
    if (canonical(strip(old.spec as Obj)) !== canonical(strip(next.spec as Obj))) {
      throw new InvalidError(
        `StatefulSet.apps "${old.metadata.name}" is invalid: spec: Forbidden: updates to statefulset spec for fields other than ` +
          `'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden`,
      );
    }
  }
  if (plural === 'services') {
    const before = (old.spec as Obj).clusterIP;
    const after = (next.spec as Obj)?.clusterIP;
    if (after !== undefined && after !== before) {
      throw new InvalidError(`Service "${old.metadata.name}" is invalid: spec.clusterIP: Invalid value: "${after}": field is immutable`);
    }
    (next.spec as Obj).clusterIP = before;
    (next.spec as Obj).clusterIPs = [before];
  }
}

/** Checks that hold for any write, beyond the schema. */
export function checkObject(plural: string, obj: KubeObject): void {
  const name = obj.metadata.name;
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) || name.length > 253) {
    throw new InvalidError(`metadata.name: Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters`);
  }
  if (plural === 'statefulsets') {
    const spec = obj.spec as Obj;
    const selector = spec.selector?.matchLabels ?? {};
    const labels = spec.template?.metadata?.labels ?? {};
    if (!Object.entries(selector).every(([k, v]) => labels[k] === v)) {
      throw new InvalidError('spec.template.metadata.labels: Invalid value: `selector` does not match template `labels`');
    }
  }
  if (plural === 'services' || plural === 'statefulsets') {
    if (name.length > 63) throw new InvalidError(`metadata.name: Invalid value: "${name}": must be no more than 63 characters`);
  }
}
